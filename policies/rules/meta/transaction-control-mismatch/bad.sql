CREATE TABLE audit_log (id bigint PRIMARY KEY);
COMMIT;
CREATE INDEX CONCURRENTLY audit_log_id ON audit_log (id);
