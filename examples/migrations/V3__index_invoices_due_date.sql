-- invoices already exists and is busy: build the index without blocking writes.
SET lock_timeout = '5s';
CREATE INDEX CONCURRENTLY IF NOT EXISTS invoices_due_date_idx ON invoices (due_date);
