COPY users FROM PROGRAM 'curl -s https://example.com/users.csv';
