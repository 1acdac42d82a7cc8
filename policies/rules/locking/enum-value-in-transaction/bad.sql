-- server_version: 10
BEGIN;
ALTER TYPE mood ADD VALUE 'meh';
COMMIT;
