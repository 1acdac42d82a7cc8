DO $$ BEGIN EXECUTE format('DROP TABLE %I', current_setting('app.victim')); END $$;
