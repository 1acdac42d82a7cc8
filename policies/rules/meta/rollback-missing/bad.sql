-- a change to an existing table, no down file and no metadata
ALTER TABLE accounts ADD COLUMN note text;
