CREATE OR REPLACE FUNCTION calculate_total(integer) RETURNS integer LANGUAGE sql AS 'SELECT $1';
