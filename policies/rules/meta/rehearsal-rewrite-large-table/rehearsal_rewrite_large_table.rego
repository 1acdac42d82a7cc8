# METADATA
# title: A rehearsal measured a table rewrite on a large table
# description: >-
#   With a catalog: a rehearsal of exactly these files (input.evidence) measured that a
#   statement rewrote its table (the relfilenode changed), and the target's table is at or
#   above the large-table thresholds (policy data size.yaml). A rewrite holds ACCESS
#   EXCLUSIVE for its whole duration, which grows with the table; measured, not guessed.
# custom:
#   id: rehearsal-rewrite-large-table
#   level: deny
package sqlgate.rules.meta.rehearsal_rewrite_large_table

import rego.v1

default large := {}

large := data.sqlgate.config.size.large

is_large(s) if object.get(s, ["facts", "table_rows"], -1) >= object.get(large, "min_rows", 0)

is_large(s) if object.get(s, ["facts", "table_bytes"], -1) >= object.get(large, "min_bytes", 0)

# Rewrites measured per (file, line): the evidence is for these exact bytes, so the
# runner's statement lines are the review's.
measured contains [st.file, st.line, e, w] if {
	some e in object.get(input, "evidence", [])
	object.get(e, "kind", null) == "rehearsal"
	some st in object.get(e, "statements", [])
	some w in object.get(st, "rewrites", [])
	object.get(w, "kind", null) == "table"
}

report contains {
	"rule": "rehearsal-rewrite-large-table",
	"statement": s.index,
	"message": sprintf("rehearsal %v in %v/%v measured a rewrite of table %v by this statement (relfilenode changed; %v bytes in the scratch database); the target's table has about %v rows, %v bytes (catalog): it would hold ACCESS EXCLUSIVE for the whole rewrite", [e.evidence_id, e.environment, e.target, w.relation, w.bytes_after, s.facts.table_rows, s.facts.table_bytes]),
	"help": "Avoid the rewrite (a new column plus a batched backfill, or a type change PostgreSQL can do without rewriting), or schedule it with an approved maintenance window.",
} if {
	some m in measured
	[file, line, e, w] := m
	some s in input.statements
	s.file == file
	object.get(s, "line", null) == line
	is_number(object.get(s, ["facts", "table_rows"], null))
	is_large(s)
}
