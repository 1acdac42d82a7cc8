package sqlgate.rules.integrity.fk_missing_index_test

import rego.v1

import data.sqlgate.rules.integrity.fk_missing_index

fk := {"name": "orders_user_fk", "columns": ["user_id"], "ref_table": "users", "ref_columns": ["id"], "not_valid": true}

test_fires_without_index if {
	r := fk_missing_index.report with input as {"dialect": "postgres", "statements": [object.union(fk, {"kind": "add_foreign_key", "index": 0, "table": "orders"})], "facts": {"indexes": [{"name": "orders_pkey", "table": "orders", "columns": ["id"]}]}}
	count(r) == 1
	some f in r
	contains(f.message, "orders(user_id)")
}

test_quiet_with_leading_index if {
	count(fk_missing_index.report) == 0 with input as {"dialect": "postgres", "statements": [object.union(fk, {"kind": "add_foreign_key", "index": 0, "table": "orders"})], "facts": {"indexes": [{"name": "i", "table": "orders", "columns": ["user_id", "created_at"]}]}}
}

test_fires_when_column_is_not_leading if {
	count(fk_missing_index.report) == 1 with input as {"dialect": "postgres", "statements": [object.union(fk, {"kind": "add_foreign_key", "index": 0, "table": "orders"})], "facts": {"indexes": [{"name": "i", "table": "orders", "columns": ["created_at", "user_id"]}]}}
}

test_fires_when_index_is_on_another_table if {
	count(fk_missing_index.report) == 1 with input as {"dialect": "postgres", "statements": [object.union(fk, {"kind": "add_foreign_key", "index": 0, "table": "orders"})], "facts": {"indexes": [{"name": "i", "table": "payments", "columns": ["user_id"]}]}}
}

test_fires_on_add_column_fk if {
	count(fk_missing_index.report) == 1 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "table": "orders", "column": {"name": "user_id"}, "foreign_key": fk}], "facts": {"indexes": []}}
}

test_quiet_on_add_column_without_fk if {
	count(fk_missing_index.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "add_column", "index": 0, "table": "orders", "column": {"name": "note"}, "foreign_key": null}], "facts": {"indexes": []}}
}

test_create_table_fks if {
	r := fk_missing_index.report with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "table": "orders", "columns": [], "foreign_keys": [fk, object.union(fk, {"name": "orders_shop_fk", "columns": ["shop_id", "region"]})]}], "facts": {"indexes": [{"name": "i", "table": "orders", "columns": ["region", "shop_id"]}]}}
	count(r) == 1
	some f in r
	contains(f.message, "orders_user_fk")
}

test_fires_when_facts_indexes_missing if {
	count(fk_missing_index.report) == 1 with input as {"dialect": "postgres", "statements": [object.union(fk, {"kind": "add_foreign_key", "index": 0, "table": "orders"})]}
}

test_quiet_on_mysql if {
	count(fk_missing_index.report) == 0 with input as {"dialect": "mysql", "statements": [object.union(fk, {"kind": "add_foreign_key", "index": 0, "table": "orders"})], "facts": {"indexes": []}}
}
