# METADATA
# title: ALTER TABLE ... LOCK=SHARED/EXCLUSIVE (MySQL)
# description: LOCK=EXCLUSIVE blocks reads and writes, LOCK=SHARED blocks writes, for the whole ALTER.
# custom:
#   id: mysql-lock-blocking
#   level: approval
package sqlgate.rules.mysql.mysql_lock_blocking

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "mysql-lock-blocking",
	"statement": s.index,
	"message": sprintf("ALTER TABLE %s asks for LOCK=%s: it blocks %s for the whole operation", [lib.field(s, "table"), s.lock_option, blocked[s.lock_option]]),
	"help": "Use LOCK=NONE (with ALGORITHM=INPLACE or INSTANT); MySQL refuses the statement if it cannot run it without blocking.",
} if {
	lib.mysql
	some s in input.statements
	s.lock_option in {"SHARED", "EXCLUSIVE"}
	lib.existing_table(s)
}

blocked := {"SHARED": "writes", "EXCLUSIVE": "reads and writes"}
