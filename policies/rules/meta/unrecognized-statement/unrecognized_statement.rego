# METADATA
# title: Statement not understood
# description: A statement sqlgate cannot understand (kind unknown, or opaque like a DO block) cannot be reviewed automatically, so a human must.
# custom:
#   id: unrecognized-statement
#   level: approval
package sqlgate.rules.meta.unrecognized_statement

import rego.v1

import data.sqlgate.lib

# Every kind this policy set knows how to judge; anything else is refused, not waved through.
known_kinds := {
	"create_table", "drop_table", "rename_table", "add_column", "drop_column", "rename_column",
	"alter_column_type", "set_not_null", "drop_not_null", "set_default", "drop_default",
	"add_constraint", "add_foreign_key", "drop_constraint", "validate_constraint",
	"create_index", "drop_index", "truncate", "update", "delete", "insert", "copy", "set",
	"transaction", "create_function", "do_block", "grant", "revoke", "create_schema",
	"drop_schema", "drop_database", "create_view", "drop_view", "create_extension",
	"drop_extension", "alter_type_add_value", "select", "unknown",
	# additive kinds (contract §1)
	"rename_constraint", "reindex", "call", "create_sequence", "create_type", "create_trigger",
	"comment", "drop_object", "alter_object", "alter_table_other",
	"lock_table", "vacuum", "analyze", "cluster",
	"refresh_materialized_view", "security_label", "alter_default_privileges",
}

report contains {
	"rule": "unrecognized-statement",
	"statement": s.index,
	"message": sprintf("statement not understood: %s", [lib.field(s, "reason")]),
	"help": "Rewrite it in a form sqlgate understands, or have a reviewer approve it after reading it.",
} if {
	some s in lib.by_kind.unknown
}

report contains {
	"rule": "unrecognized-statement",
	"statement": s.index,
	"message": sprintf("%s: its effect cannot be known statically", [lib.field(s, "kind")]),
	"help": "A reviewer must read what it does and approve it.",
} if {
	some s in input.statements
	s.kind != "unknown"
	s.opaque == true
}

report contains {
	"rule": "unrecognized-statement",
	"statement": s.index,
	"message": sprintf("statement kind %s is not known to this policy set", [lib.field(s, "kind")]),
	"help": "Update the policies to judge this kind, or have a reviewer approve it.",
} if {
	some s in input.statements

	# object.get, not s.kind: with `kind` missing, OPA evaluates `not s.kind in ...` to
	# undefined (no finding: fail open) where regorus fires.
	not object.get(s, "kind", null) in known_kinds
}
