"""What operators watch: Prometheus metrics (``metrics``), one log line per RPC
(``calls``) and the log format (``logs``). Nothing here sees a secret: labels and log
fields are method names, status codes, principal ids, environments, rule ids, decisions
and verdict ids — never tokens, DSNs or request bodies."""
