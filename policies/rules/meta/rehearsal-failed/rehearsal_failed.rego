# METADATA
# title: A rehearsal of these exact files failed
# description: >-
#   sqlgate-runner rehearse ran exactly these files (same paths, same bytes, same order)
#   in a scratch copy of a target and submitted the result (input.evidence); it failed:
#   a reconciliation check differed, the rollback left the schema different, or a
#   statement failed. The message cites the evidence and what differed.
# custom:
#   id: rehearsal-failed
#   level: deny
package sqlgate.rules.meta.rehearsal_failed

import rego.v1

# The finding points at the set's first statement: the evidence is about the whole set.
first := input.statements[0].index

cite(e) := sprintf("rehearsal %v in %v/%v", [e.evidence_id, e.environment, e.target])

failed contains e if {
	some e in object.get(input, "evidence", [])
	object.get(e, "kind", null) == "rehearsal"
	object.get(e, "passed", null) != true
}

report contains {
	"rule": "rehearsal-failed",
	"statement": first,
	"message": sprintf("%v: reconciliation differs: %v", [cite(e), concat("; ", e.reconciliation_failed)]),
	"help": "Fix the migration (or the check, if the change is intended) and rehearse again; docs/runner.md, Rehearsal.",
} if {
	some e in failed
	count(object.get(e, "reconciliation_failed", [])) > 0
}

report contains {
	"rule": "rehearsal-failed",
	"statement": first,
	"message": sprintf("%v: rollback test failed, the schema after rollback differs from before: %v", [cite(e), concat("; ", e.rollback.diff)]),
	"help": "Make the down file undo every change (the diff lists what it left: + left behind, - missing, ~ changed), then rehearse again.",
} if {
	some e in failed
	object.get(e, ["rollback", "status"], null) == "failed"
	count(object.get(e, ["rollback", "diff"], [])) > 0
}

report contains {
	"rule": "rehearsal-failed",
	"statement": first,
	"message": sprintf("%v: rollback test failed: %v", [cite(e), e.rollback.error]),
	"help": "Make the rollback run cleanly after the migration, then rehearse again.",
} if {
	some e in failed
	object.get(e, ["rollback", "status"], null) == "failed"
	count(object.get(e, ["rollback", "diff"], [])) == 0
}

report contains {
	"rule": "rehearsal-failed",
	"statement": first,
	"message": sprintf("%v: the migration failed: %v", [cite(e), e.error]),
	"help": "The same files failed on a copy of the target's schema; fix them and rehearse again.",
} if {
	some e in failed
	object.get(e, "error", "") != ""
}

# Failed without any reason named (a malformed record): still reported, never silent.
report contains {
	"rule": "rehearsal-failed",
	"statement": first,
	"message": sprintf("%v: failed", [cite(e)]),
	"help": "Rehearse again and look at the runner's report.",
} if {
	some e in failed
	count(object.get(e, "reconciliation_failed", [])) == 0
	object.get(e, ["rollback", "status"], null) != "failed"
	object.get(e, "error", "") == ""
}
