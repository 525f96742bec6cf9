-- Remove carts abandoned before the launch, holding writes off while we do it.
BEGIN;
LOCK TABLE orders IN EXCLUSIVE MODE;
DELETE FROM order_items WHERE order_id IN (SELECT id FROM orders WHERE status = 'new' AND placed_at < '2024-01-01');
DELETE FROM orders WHERE status = 'new' AND placed_at < '2024-01-01';
COMMIT;
