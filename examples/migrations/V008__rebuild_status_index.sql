-- The status index bloated after the backfill.
REINDEX INDEX orders_status_idx;
