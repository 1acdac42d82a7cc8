package sqlgate.rules.locking.detach_partition_not_concurrent_test

import rego.v1

import data.sqlgate.rules.locking.detach_partition_not_concurrent

test_fires_on_detach if {
	r := detach_partition_not_concurrent.report with input as {"dialect": "postgres", "statements": [{"kind": "alter_table_other", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "events", "subtype": "AT_DetachPartition", "concurrently": false}]}
	count(r) == 1
	some f in r
	contains(f.message, "events")
}

test_quiet_when_concurrent if {
	count(detach_partition_not_concurrent.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "alter_table_other", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "events", "subtype": "AT_DetachPartition", "concurrently": true}]}
}

test_quiet_on_other_subtype if {
	count(detach_partition_not_concurrent.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "alter_table_other", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "events", "subtype": "AT_AttachPartition", "concurrently": false}]}
}

test_quiet_on_mysql if {
	count(detach_partition_not_concurrent.report) == 0 with input as {"dialect": "mysql", "statements": [{"kind": "alter_table_other", "index": 0, "file": "m.sql", "in_transaction": false, "facts": {"table_created_in_set": false}, "table": "events", "subtype": "AT_DetachPartition", "concurrently": false}]}
}

test_help_depends_on_version if {
	old := detach_partition_not_concurrent.report with input as {"dialect": "postgres", "server_version": "13.9", "statements": [{"kind": "alter_table_other", "index": 0, "table": "t", "subtype": "AT_DetachPartition", "concurrently": false}]}
	new := detach_partition_not_concurrent.report with input as {"dialect": "postgres", "server_version": "14", "statements": [{"kind": "alter_table_other", "index": 0, "table": "t", "subtype": "AT_DetachPartition", "concurrently": false}]}
	some o in old
	contains(o.help, "needs PostgreSQL 14")
	some n in new
	startswith(n.help, "Use DETACH PARTITION")
}
