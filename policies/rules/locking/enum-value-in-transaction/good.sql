-- server_version: 10
ALTER TYPE mood ADD VALUE 'meh';
