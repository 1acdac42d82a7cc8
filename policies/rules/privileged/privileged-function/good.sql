SELECT setval('accounts_id_seq', (SELECT max(id) FROM accounts));
