CREATE TABLE accounts (id bigserial PRIMARY KEY);
