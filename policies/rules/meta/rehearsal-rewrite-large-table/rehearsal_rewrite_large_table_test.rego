package sqlgate.rules.meta.rehearsal_rewrite_large_table_test

import rego.v1

import data.sqlgate.rules.meta.rehearsal_rewrite_large_table

size := {"large": {"min_rows": 1000, "min_bytes": 1000000}}

stmt(rows) := {"kind": "alter_column_type", "index": 0, "file": "V2__x.sql", "line": 3, "table": "orders", "facts": {"table_rows": rows, "table_bytes": 5000}}

ev(kind, line) := {
	"kind": "rehearsal", "evidence_id": "e1", "environment": "staging", "target": "db", "passed": true,
	"statements": [{"file": "V2__x.sql", "line": line, "rewrites": [{"relation": "orders", "kind": kind, "bytes_after": 8192}]}],
}

run(s, evidence) := r if {
	r := rehearsal_rewrite_large_table.report with input as {"statements": [s], "evidence": evidence} with data.sqlgate.config.size as size
}

test_measured_rewrite_on_large_table_fires if {
	r := run(stmt(5000), [ev("table", 3)])
	count(r) == 1
	some f in r
	contains(f.message, "rehearsal e1 in staging/db measured a rewrite of table orders")
	contains(f.message, "about 5000 rows")
}

test_small_table_is_quiet if {
	count(run(stmt(10), [ev("table", 3)])) == 0
}

test_index_rebuild_alone_is_quiet if {
	count(run(stmt(5000), [ev("index", 3)])) == 0
}

test_other_statement_is_quiet if {
	count(run(stmt(5000), [ev("table", 4)])) == 0
}

test_unknown_size_is_quiet if {
	count(run(object.union(stmt(0), {"facts": {"table_rows": null, "table_bytes": null}}), [ev("table", 3)])) == 0
}
