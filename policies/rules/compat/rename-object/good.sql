CREATE VIEW current_users AS SELECT * FROM users WHERE active;
