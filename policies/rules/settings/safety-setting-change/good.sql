SET lock_timeout = '2s';
SET LOCAL statement_timeout = '5min';
SET session_replication_role = origin;
SET work_mem = '64MB';
