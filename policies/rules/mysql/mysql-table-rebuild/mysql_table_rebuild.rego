# METADATA
# title: ALTER that rebuilds the table (MySQL)
# description: Changes that copy or rebuild an InnoDB table in MySQL 8 unless run with ALGORITHM=INPLACE, LOCK=NONE or INSTANT.
# custom:
#   id: mysql-table-rebuild
#   level: approval
package sqlgate.rules.mysql.mysql_table_rebuild

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "mysql-table-rebuild",
	"statement": s.index,
	"message": sprintf("%s on %s rebuilds the table in MySQL: %s", [upper(replace(s.kind, "_", " ")), lib.field(s, "table"), why]),
	"help": "Add ALGORITHM=INPLACE, LOCK=NONE (or INSTANT) so MySQL refuses instead of blocking, or use gh-ost / pt-online-schema-change for big tables.",
} if {
	lib.mysql
	some s in input.statements
	lib.existing_table(s)
	not online(s)
	some why in rebuilds(s)
}

# The statement says ALGORITHM/LOCK clauses that make MySQL refuse rather than block:
# INSTANT, or INPLACE with LOCK=NONE.
online(s) if s.algorithm == "INSTANT"

online(s) if {
	s.algorithm == "INPLACE"
	s.lock_option == "NONE"
}

# Why the statement rebuilds the table (an empty set when it does not).
rebuilds(s) := {why | some why in [reason_0(s), reason_1(s), reason_2(s), reason_3(s), reason_4(s), reason_5(s), reason_6(s)]; why != null}

reason_0(s) := "a new column definition (type, charset or nullability) copies the table" if {
	s.kind == "alter_column_type"
} else := null

reason_1(s) := "converting the character set rewrites every row" if {
	s.kind == "alter_table_other"
	s.subtype in {"ConvertToCharset", "TableCharset"}
} else := null

reason_2(s) := "dropping the primary key rebuilds the clustered index" if {
	s.kind == "alter_table_other"
	s.subtype == "DropPrimaryKey"
} else := null

reason_3(s) := "adding a primary key rebuilds the clustered index" if {
	s.kind == "add_constraint"
	s.constraint_type == "primary_key"
} else := null

reason_4(s) := sprintf("reordering columns (%s) rebuilds the table", [s.placement]) if {
	s.kind in {"alter_column_type", "rename_column"}
	is_string(s.placement)
} else := null

reason_5(s) := sprintf("ADD COLUMN ... %s is only instant from MySQL 8.0.29", [s.placement]) if {
	s.kind == "add_column"
	is_string(s.placement)
	not instant_add_anywhere
} else := null

reason_6(s) := sprintf("a %s index rebuilds the table and cannot be built with LOCK=NONE", [upper(s.index_type)]) if {
	s.kind == "create_index"
	s.index_type in {"fulltext", "spatial"}
} else := null

# MySQL 8.0.29+ adds a column at any position with ALGORITHM=INSTANT. An unknown or
# unparsable server version counts as older: fail closed.
instant_add_anywhere if {
	v := object.get(input, "server_version", null)
	is_string(v)
	semver.is_valid(v)
	semver.compare(v, "8.0.29") >= 0
}
