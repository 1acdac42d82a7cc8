-- dialect: mysql
ALTER TABLE users MODIFY nickname varchar(64) NULL;
