ALTER TABLE orders ADD CONSTRAINT orders_qty_check CHECK (qty > 0);
