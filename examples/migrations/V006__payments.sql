CREATE TABLE payments (
    id          bigserial PRIMARY KEY,
    order_id    bigint NOT NULL,
    amount      integer NOT NULL,
    paid_at     timestamptz NOT NULL
);
-- payments is new in this file: validating this constraint is instant.
ALTER TABLE payments ADD CONSTRAINT payments_order_fk FOREIGN KEY (order_id) REFERENCES orders (id);

-- order_items already holds rows: this scans it under a global lock.
ALTER TABLE order_items ADD CONSTRAINT order_items_quantity_positive CHECK (quantity > 0);
