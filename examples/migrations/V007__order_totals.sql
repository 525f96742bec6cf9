-- Denormalise order totals for the dashboard.
BEGIN;
ALTER TABLE orders ADD COLUMN total_cents bigint;
UPDATE orders o
   SET total_cents = (SELECT sum(i.quantity * p.price_cents)
                        FROM order_items i JOIN products p ON p.id = i.product_id
                       WHERE i.order_id = o.id);
COMMIT;
