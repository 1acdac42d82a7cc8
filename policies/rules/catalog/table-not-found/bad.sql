-- catalog.json beside this file: public.accounts exists, public.acounts does not
ALTER TABLE acounts ADD COLUMN note text;
