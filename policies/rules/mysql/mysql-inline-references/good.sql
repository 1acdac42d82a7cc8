-- dialect: mysql
ALTER TABLE orders ADD COLUMN user_id bigint, ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
