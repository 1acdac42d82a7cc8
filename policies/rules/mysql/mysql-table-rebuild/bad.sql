-- dialect: mysql
ALTER TABLE users MODIFY email varchar(320) NOT NULL;
