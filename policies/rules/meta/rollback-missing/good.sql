-- only new objects: dropping them is the rollback
CREATE TABLE notes (id bigint PRIMARY KEY, body text);
