# METADATA
# title: Inline REFERENCES ignored (MySQL)
# description: 'MySQL parses and silently ignores an inline column REFERENCES clause: no foreign key is created.'
# custom:
#   id: mysql-inline-references
#   level: warn
package sqlgate.rules.mysql.mysql_inline_references

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "mysql-inline-references",
	"statement": s.index,
	"message": sprintf("column %s.%s REFERENCES %s creates no foreign key in MySQL (inline REFERENCES is ignored)", [lib.field(s, "table"), object.get(s.column, "name", "?"), s.inline_references]),
	"help": "Declare the foreign key as a table constraint: ADD CONSTRAINT ... FOREIGN KEY (col) REFERENCES other (id).",
} if {
	lib.mysql
	some s in lib.by_kind.add_column
	is_string(s.inline_references)
}
