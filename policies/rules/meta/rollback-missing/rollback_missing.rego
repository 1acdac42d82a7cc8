# METADATA
# title: No rollback declared
# description: >-
#   A file that changes existing objects or data (anything beyond creating new objects,
#   comments and selects) declares no rollback in its metadata and has no down file.
# custom:
#   id: rollback-missing
#   level: warn
package sqlgate.rules.meta.rollback_missing

import rego.v1

# Statements that are undone by dropping what they created, or change nothing.
trivial_kinds := {
	"create_table", "create_index", "create_view", "create_sequence", "create_type",
	"create_function", "create_schema", "create_extension", "create_trigger",
	"comment", "select", "set", "transaction",
}

# The file's first non-trivial statement.
first_change(path) := min([s.index |
	some s in input.statements
	s.file == path
	not s.kind in trivial_kinds
])

report contains {
	"rule": "rollback-missing",
	"statement": i,
	"message": sprintf("%v changes existing objects or data and declares no rollback", [f.path]),
	"help": "Add a down file beside it, or declare rollback (transactional, compensating with rollback_file, or none with a reason) in its metadata (docs/metadata.md).",
} if {
	some f in object.get(input, "files", [])
	object.get(f, ["metadata", "rollback"], null) == null
	# The review always says (null: none found); an input without the key is not judged.
	f.down_file == null
	i := first_change(f.path)
}
