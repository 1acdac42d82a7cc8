-- catalog.json beside this file: events has about 5 million rows
-- sqlgate:batch key=id size=5000 pause=50ms
UPDATE events SET archived = true WHERE created_at < '2020-01-01';
-- accounts is small
UPDATE accounts SET plan = 'free' WHERE plan IS NULL;
