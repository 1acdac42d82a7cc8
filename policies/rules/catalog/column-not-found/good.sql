-- catalog.json beside this file: accounts has id, email, plan
ALTER TABLE accounts ADD COLUMN note text;
ALTER TABLE accounts ALTER COLUMN note SET DEFAULT '';
ALTER TABLE accounts RENAME COLUMN plan TO tier;
ALTER TABLE accounts ALTER COLUMN tier DROP DEFAULT;
