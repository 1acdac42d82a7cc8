-- with evidence.json: the rehearsal measured a rewrite of orders (catalog.json: 3.4M rows)
ALTER TABLE orders ALTER COLUMN qty TYPE bigint;
