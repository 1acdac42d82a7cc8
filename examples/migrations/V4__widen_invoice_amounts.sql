-- Widen invoice amounts to bigint.
-- Risky: this rewrites the whole invoices table under an ACCESS EXCLUSIVE lock,
-- blocking every read and write until it finishes.
ALTER TABLE invoices ALTER COLUMN amount_cents TYPE bigint;
