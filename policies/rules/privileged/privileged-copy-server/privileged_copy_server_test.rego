package sqlgate.rules.privileged.privileged_copy_server_test

import rego.v1

import data.sqlgate.rules.privileged.privileged_copy_server

test_fires_on_program if {
	r := privileged_copy_server.report with input as {"dialect": "postgres", "statements": [{"kind": "copy", "index": 0, "table": "t", "direction": "from", "program": true}]}
	count(r) == 1
	some f in r
	f.approver_role == "security"
	contains(f.message, "runs a program")
}

test_fires_on_server_file if {
	r := privileged_copy_server.report with input as {"dialect": "postgres", "statements": [{"kind": "copy", "index": 0, "table": "t", "direction": "to", "program": false, "server_file": true}]}
	count(r) == 1
	some f in r
	contains(f.message, "server file")
}

test_quiet_on_stdin if {
	count(privileged_copy_server.report) == 0 with input as {"dialect": "postgres", "statements": [{"kind": "copy", "index": 0, "table": "t", "direction": "from", "program": false, "server_file": false}]}
}
