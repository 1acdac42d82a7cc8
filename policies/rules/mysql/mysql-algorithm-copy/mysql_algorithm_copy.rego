# METADATA
# title: ALTER TABLE ... ALGORITHM=COPY (MySQL)
# description: ALGORITHM=COPY rebuilds the table into a copy and blocks writes for the whole copy.
# custom:
#   id: mysql-algorithm-copy
#   level: approval
package sqlgate.rules.mysql.mysql_algorithm_copy

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "mysql-algorithm-copy",
	"statement": s.index,
	"message": sprintf("ALTER TABLE %s uses ALGORITHM=COPY: the table is copied and writes are blocked until it finishes", [lib.field(s, "table")]),
	"help": "Use ALGORITHM=INSTANT or ALGORITHM=INPLACE, LOCK=NONE (MySQL refuses if it cannot), or an online schema change tool (gh-ost, pt-online-schema-change).",
} if {
	lib.mysql
	some s in input.statements
	s.algorithm == "COPY"
	lib.existing_table(s)
}
