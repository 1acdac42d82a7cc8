-- dialect: mysql
ALTER TABLE orders ADD COLUMN user_id bigint REFERENCES users (id);
