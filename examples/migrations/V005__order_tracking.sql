-- Every order gets a public tracking id and a last-update time.
ALTER TABLE orders ADD COLUMN tracking_id uuid NOT NULL DEFAULT gen_random_uuid();
ALTER TABLE orders ADD COLUMN updated_at timestamptz DEFAULT CURRENT_TIMESTAMP;

-- A constant default is immutable: fine on PGD 5.
ALTER TABLE orders ADD COLUMN gift boolean NOT NULL DEFAULT false;
