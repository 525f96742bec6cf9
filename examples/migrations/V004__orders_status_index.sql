-- The orders page filters by status: index it.
CREATE INDEX orders_status_idx ON orders (status);
CREATE INDEX orders_customer_idx ON orders (customer_id, placed_at DESC);
