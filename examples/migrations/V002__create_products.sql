CREATE TABLE products (
    id           bigserial PRIMARY KEY,
    sku          text NOT NULL UNIQUE,
    title        text NOT NULL,
    price_cents  integer NOT NULL CHECK (price_cents >= 0)
);

-- Tags of a product. No primary key: on PGD, UPDATE and DELETE on this table cannot be
-- replicated by key.
CREATE TABLE product_tags (
    product_id  bigint NOT NULL REFERENCES products (id),
    tag         text NOT NULL
);
