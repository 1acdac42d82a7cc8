-- catalog.json beside this file: public.accounts exists
ALTER TABLE accounts ADD COLUMN note text;
CREATE TABLE notes (id bigint PRIMARY KEY);
CREATE INDEX notes_id_idx ON notes (id);
