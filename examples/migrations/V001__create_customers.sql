-- Customers of the shop.
CREATE TABLE customers (
    id          bigserial PRIMARY KEY,
    email       text NOT NULL,
    full_name   text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The table was created just above: it is empty, so a plain index build is instant.
CREATE UNIQUE INDEX customers_email_key ON customers (lower(email));
