-- with evidence.json: a rehearsal of this file whose rollback left an index behind
ALTER TABLE orders ADD COLUMN status text;
