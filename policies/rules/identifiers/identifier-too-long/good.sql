CREATE TABLE orders_by_customer_region_status_history (id bigint PRIMARY KEY);
