CREATE FUNCTION whoami() RETURNS text LANGUAGE sql AS 'SELECT current_user';
