package sqlgate.rules.identifiers.identifier_too_long_test

import rego.v1

import data.sqlgate.rules.identifiers.identifier_too_long

stmt(facts) := {"kind": "create_table", "index": 0, "table": "t", "facts": facts}

test_fires_on_a_long_postgres_identifier if {
	r := identifier_too_long.report with input as {"dialect": "postgres", "statements": [stmt({"long_identifiers": [{"name": "x", "bytes": 64}]})]}
	count(r) == 1
}

test_quiet_without_long_postgres_identifiers if {
	count(identifier_too_long.report) == 0 with input as {"dialect": "postgres", "statements": [stmt({"long_identifiers": [], "identifiers": [{"name": concat("", [x | some _ in numbers.range(1, 70); x := "a"])}]})]}
}

test_mysql_counts_characters if {
	long := concat("", [x | some _ in numbers.range(1, 65); x := "é"])
	r := identifier_too_long.report with input as {"dialect": "mysql", "statements": [stmt({"identifiers": [{"name": long}]})]}
	count(r) == 1
	short := concat("", [x | some _ in numbers.range(1, 64); x := "é"])
	count(identifier_too_long.report) == 0 with input as {"dialect": "mysql", "statements": [stmt({"identifiers": [{"name": short}]})]}
}
