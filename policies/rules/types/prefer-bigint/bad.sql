CREATE TABLE events (id serial PRIMARY KEY, attempts integer);
