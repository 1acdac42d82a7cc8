"""sqlgate's thin side: the generated API stubs, the CI check client and the runner.

Importable with grpcio, protobuf, the token library and psycopg only: nothing here
imports the server package (``sqlgate``), sqlglot or a Rego engine
(tests/test_import_rules.py enforces it).
"""
