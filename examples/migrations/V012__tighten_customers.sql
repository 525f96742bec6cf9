ALTER TABLE customers ALTER COLUMN full_name SET NOT NULL;
ALTER TABLE customers ADD CONSTRAINT customers_email_unique UNIQUE (email);
ALTER TABLE payments ALTER COLUMN amount TYPE bigint;
