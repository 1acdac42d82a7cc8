SELECT public.dblink_exec('host=other dbname=prod', 'DROP TABLE accounts');
