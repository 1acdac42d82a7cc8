# METADATA
# title: Foreign key without an index
# description: A foreign key whose columns are not the leading columns of an index makes every delete or key update on the referenced table scan the referencing table.
# custom:
#   id: fk-missing-index
#   level: deny
package sqlgate.rules.integrity.fk_missing_index

import rego.v1

import data.sqlgate.lib

# Every foreign key the set adds, with the table that holds it.
foreign_keys contains {"statement": s, "table": object.get(s, "table", null), "fk": s} if {
	some s in lib.by_kind.add_foreign_key
}

foreign_keys contains {"statement": s, "table": object.get(s, "table", null), "fk": s.foreign_key} if {
	some s in lib.by_kind.add_column
	is_object(s.foreign_key)
}

foreign_keys contains {"statement": s, "table": object.get(s, "table", null), "fk": fk} if {
	some s in lib.by_kind.create_table
	some fk in s.foreign_keys
}

# The indexes grouped by table, once per evaluation: looking a foreign key's table up here
# instead of scanning every index per foreign key keeps the rule linear.
indexes_on[table] contains idx if {
	some idx in input.facts.indexes
	table := idx.table
}

# Some index on the table starts with exactly the foreign key's columns (in any order).
covered(table, columns) if {
	n := count(columns)
	n > 0
	some idx in indexes_on[table]
	count(idx.columns) >= n
	{c | some c in array.slice(idx.columns, 0, n)} == {c | some c in columns}
}

report contains {
	"rule": "fk-missing-index",
	"statement": k.statement.index,
	"message": sprintf("foreign key %s on %s(%s) has no index starting with its columns", [lib.field(k.fk, "name"), lib.field(k, "table"), lib.names(k.fk, "columns")]),
	"help": "Create an index on the referencing columns (CREATE INDEX CONCURRENTLY ... ON table (columns)) in the same set; deletes and key updates on the referenced table otherwise scan this table.",
} if {
	lib.postgres
	some k in foreign_keys
	not covered(k.table, object.get(k.fk, "columns", []))
}
