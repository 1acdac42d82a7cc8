-- without evidence of a rewrite (evidence.json applies to bad.sql only): quiet
ALTER TABLE orders ALTER COLUMN qty TYPE bigint;
