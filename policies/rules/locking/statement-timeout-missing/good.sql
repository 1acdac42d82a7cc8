SET statement_timeout = '5s';
CREATE TABLE audit_log (id bigint PRIMARY KEY);
