-- catalog.json beside this file: accounts has id, email, plan
ALTER TABLE accounts ALTER COLUMN emial SET NOT NULL;
