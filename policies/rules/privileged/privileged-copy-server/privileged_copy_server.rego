# METADATA
# title: COPY with a program or a server file
# description: COPY ... PROGRAM runs a shell command on the database server; COPY to/from a file reads or writes the server's filesystem.
# custom:
#   id: privileged-copy-server
#   level: approval
package sqlgate.rules.privileged.privileged_copy_server

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "privileged-copy-server",
	"statement": s.index,
	"message": sprintf("COPY %s %s %s on the database server", [upper(lib.field(s, "direction")), lib.field(s, "table"), what(s)]),
	"help": "Load data through the client (COPY ... FROM STDIN); server programs and files need a security approver.",
	"approver_role": "security",
} if {
	some s in lib.by_kind.copy
	server_side(s)
}

server_side(s) if s.program == true

server_side(s) if s.server_file == true

what(s) := "runs a program" if s.program == true

else := "reads or writes a server file"
