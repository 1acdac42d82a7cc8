CREATE INDEX CONCURRENTLY users_email_idx ON users (email);
CREATE TABLE audit_log (id bigint PRIMARY KEY, actor text);
CREATE INDEX audit_log_actor_idx ON audit_log (actor);
