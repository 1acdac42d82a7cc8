CREATE VIEW accounts AS SELECT * FROM users;
