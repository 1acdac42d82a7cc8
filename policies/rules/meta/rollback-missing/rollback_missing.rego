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

# The changes of the set, in statement order (a file's statements are contiguous).
changes := [s | some s in input.statements; not object.get(s, "kind", null) in trivial_kinds]

# Each file's first non-trivial statement: a change whose predecessor among the changes
# belongs to another file. One pass; scanning all statements per file was quadratic
# (4 s at 12k statements). Were a file's statements not contiguous, the file would get
# two values: a conflict, i.e. an engine error and a deny, never a silent miss.
first_change[s.file] := s.index if {
	some j, s in changes
	first_of_file(j, s)
}

first_of_file(j, _) if j == 0

first_of_file(j, s) if {
	j > 0
	changes[j - 1].file != s.file
}

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
	i := first_change[f.path]
}
