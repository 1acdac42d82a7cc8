-- sqlgate:meta
-- environments: [dev, staging, production]
-- rollback: transactional
UPDATE accounts SET plan = 'free' WHERE plan IS NULL;
