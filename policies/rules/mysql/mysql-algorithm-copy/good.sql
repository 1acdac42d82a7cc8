-- dialect: mysql
ALTER TABLE users ADD COLUMN nickname varchar(64), ALGORITHM=INSTANT;
