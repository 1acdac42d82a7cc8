ALTER TABLE users ADD COLUMN age_big bigint;
