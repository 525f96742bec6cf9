CREATE TYPE order_status AS ENUM ('new', 'paid', 'cancelled');
ALTER TYPE order_status ADD VALUE 'shipped' AFTER 'paid';

-- Switching the column to the enum rewrites the whole table.
ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;
ALTER TABLE orders ALTER COLUMN status TYPE order_status USING status::order_status;
ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'shipped';
