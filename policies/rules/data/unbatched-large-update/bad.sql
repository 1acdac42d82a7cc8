-- catalog.json beside this file: events has about 5 million rows
UPDATE events SET archived = true WHERE created_at < '2020-01-01';
