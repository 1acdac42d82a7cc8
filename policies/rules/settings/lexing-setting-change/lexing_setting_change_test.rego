package sqlgate.rules.settings.lexing_setting_change_test

import rego.v1

import data.sqlgate.rules.settings.lexing_setting_change

settings := {"lexing": {"standard_conforming_strings": ["on", "true"], "backslash_quote": ["safe_encoding"], "client_encoding": ["utf8"]}}

fires(stmt) if {
	count(lexing_setting_change.report) == 1 with input as {"dialect": "postgres", "statements": [object.union({"kind": "set", "index": 0}, stmt)]}
		with data.sqlgate.config.settings as settings
}

quiet(stmt) if {
	count(lexing_setting_change.report) == 0 with input as {"dialect": "postgres", "statements": [object.union({"kind": "set", "index": 0}, stmt)]}
		with data.sqlgate.config.settings as settings
}

test_set_off_fires if fires({"name": "standard_conforming_strings", "value": "off"})

test_set_local_false_fires if fires({"name": "standard_conforming_strings", "value": "false", "local": true})

test_set_config_fires if fires({"name": "standard_conforming_strings", "value": "OFF", "via": "set_config"})

test_alter_database_fires if fires({"name": "standard_conforming_strings", "value": "off", "scope": "database"})

test_function_clause_fires if fires({"name": "backslash_quote", "value": "on", "scope": "function"})

test_reset_fires if fires({"name": "standard_conforming_strings", "value": null})

test_client_encoding_fires if fires({"name": "client_encoding", "value": "SJIS"})

test_reset_all_fires if fires({"name": "all", "value": null})

test_computed_name_fires if fires({"name": "?", "value": "?", "via": "set_config"})

test_assumed_values_quiet if {
	quiet({"name": "standard_conforming_strings", "value": "on"})
	quiet({"name": "client_encoding", "value": "'UTF8'"})
	quiet({"name": "escape_string_warning", "value": "off"})
	quiet({"name": "lock_timeout", "value": "0"})
}
