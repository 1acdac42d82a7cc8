package sqlgate.rules.settings.safety_setting_change_test

import rego.v1

import data.sqlgate.rules.settings.safety_setting_change

settings := {
	"lexing": {"standard_conforming_strings": ["on"]},
	"safety": {"session_replication_role": ["origin"], "search_path": ["default"], "default_transaction_read_only": []},
	"timeout_caps_ms": {"lock_timeout": 5000, "statement_timeout": 900000},
}

count_for(stmt) := n if {
	n := count(safety_setting_change.report) with input as {"dialect": "postgres", "statements": [object.union({"kind": "set", "index": 0}, stmt)]}
		with data.sqlgate.config.settings as settings
}

test_replica_role_fires if count_for({"name": "session_replication_role", "value": "replica"}) == 1

test_replica_role_via_set_config_fires if count_for({"name": "session_replication_role", "value": "REPLICA", "via": "set_config", "local": true}) == 1

test_origin_quiet if count_for({"name": "session_replication_role", "value": "origin"}) == 0

test_timeouts_zero_fire if {
	count_for({"name": "lock_timeout", "value": "0"}) == 1
	count_for({"name": "statement_timeout", "value": "0ms"}) == 1
	count_for({"name": "statement_timeout", "value": null}) == 1
}

test_timeouts_above_cap_fire if {
	count_for({"name": "lock_timeout", "value": "10s"}) == 1
	count_for({"name": "statement_timeout", "value": "2h"}) == 1
	count_for({"name": "lock_timeout", "value": "6000"}) == 1
}

test_timeouts_within_cap_quiet if {
	count_for({"name": "lock_timeout", "value": "5s"}) == 0
	count_for({"name": "lock_timeout", "value": "500ms"}) == 0
	count_for({"name": "statement_timeout", "value": "15min"}) == 0
	count_for({"name": "statement_timeout", "value": "1000"}) == 0
}

test_timeout_nonsense_fires if count_for({"name": "lock_timeout", "value": "soon"}) == 1

test_search_path_fires if {
	count_for({"name": "search_path", "value": "other, public"}) == 1
	count_for({"name": "search_path", "value": "other", "via": "set_config"}) == 1
}

test_search_path_in_function_clause_quiet if count_for({"name": "search_path", "value": "pg_catalog, public", "scope": "function"}) == 0

test_database_default_fires if {
	count_for({"name": "work_mem", "value": "1GB", "scope": "database"}) == 1
	count_for({"name": "default_transaction_read_only", "value": "on", "scope": "database"}) == 1
}

test_computed_name_fires if count_for({"name": "?", "value": "?", "via": "set_config"}) == 1

test_other_session_settings_quiet if {
	count_for({"name": "work_mem", "value": "64MB"}) == 0
	count_for({"name": "standard_conforming_strings", "value": "off", "scope": "database"}) == 0
}
