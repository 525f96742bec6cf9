-- Written the way PGD wants it: every statement here passes pgd-lint.
BEGIN;
CREATE TABLE shipments (
    id          bigserial PRIMARY KEY,
    order_id    bigint NOT NULL,
    shipped_at  timestamptz
);
ALTER TABLE shipments ADD CONSTRAINT shipments_order_fk
    FOREIGN KEY (order_id) REFERENCES orders (id) NOT VALID;
COMMIT;

-- A second transaction: VALIDATE takes only the DDL lock and can run while a node is down.
BEGIN;
ALTER TABLE shipments VALIDATE CONSTRAINT shipments_order_fk;
COMMIT;

-- Outside any transaction block.
CREATE INDEX CONCURRENTLY orders_placed_idx ON orders (placed_at);
