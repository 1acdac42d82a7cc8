package sqlgate.rules.identifiers.identifier_confusable_test

import rego.v1

import data.sqlgate.rules.identifiers.identifier_confusable

test_fires_on_cyrillic_in_latin if {
	r := identifier_confusable.report with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "facts": {"identifiers": [{"name": "users", "nfc": true, "scripts": ["CYRILLIC", "LATIN"], "invisible": false}]}}]}
	count(r) == 1
	some f in r
	contains(f.message, "mixes scripts CYRILLIC, LATIN")
}

test_fires_on_greek_latin_and_invisible_and_nfc if {
	r := identifier_confusable.report with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "facts": {"identifiers": [{"name": "a", "nfc": false, "scripts": ["GREEK", "LATIN"], "invisible": true}]}}]}
	count(r) == 3
}

test_japanese_mix_is_allowed if {
	count(identifier_confusable.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "facts": {"identifiers": [{"name": "x", "nfc": true, "scripts": ["HAN", "HIRAGANA", "KATAKANA", "LATIN"], "invisible": false}]}}]}
}

test_single_script_is_quiet if {
	count(identifier_confusable.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "create_table", "index": 0, "facts": {"identifiers": [{"name": "пользователи", "nfc": true, "scripts": ["CYRILLIC"], "invisible": false}, {"name": "id", "nfc": true, "scripts": ["LATIN"], "invisible": false}]}}]}
}

test_fires_in_mysql_too if {
	count(identifier_confusable.report) == 1 with input as {"dialect": "mysql", "statements": [{"kind": "add_column", "index": 0, "facts": {"identifiers": [{"name": "x", "nfc": true, "scripts": [], "invisible": true}]}}]}
}
