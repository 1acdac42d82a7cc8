"""``sqlgate-runner``: verify the execution token, redeem it, apply the exact reviewed
bytes safely (transactions, timeouts, history, batched backfills), and report.

Stdlib, grpcio, protobuf, pyseto, cryptography, psycopg and pyyaml only.
"""
