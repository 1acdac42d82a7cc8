-- sqlgate:meta
-- environments: [dev, staging]
-- rollback: none
-- reason: test data only
DELETE FROM accounts WHERE email LIKE '%@example.test';
