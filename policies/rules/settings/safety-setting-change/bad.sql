SET session_replication_role = replica;
DELETE FROM accounts WHERE id = 1;
