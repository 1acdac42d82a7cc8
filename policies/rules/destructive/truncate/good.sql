DELETE FROM events WHERE created_at < '2020-01-01';
