-- without a failed rehearsal (evidence-good.json): quiet
ALTER TABLE orders ADD COLUMN status text;
