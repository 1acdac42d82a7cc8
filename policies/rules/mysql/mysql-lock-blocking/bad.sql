-- dialect: mysql
ALTER TABLE users ADD INDEX users_email_idx (email), LOCK=EXCLUSIVE;
