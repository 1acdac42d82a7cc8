CREATE TABLE shop_archive (id bigint PRIMARY KEY);
