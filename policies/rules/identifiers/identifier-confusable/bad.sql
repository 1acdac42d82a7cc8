CREATE TABLE "usеrs" (id bigint PRIMARY KEY);
