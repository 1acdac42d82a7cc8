DROP FUNCTION calculate_total(integer);
