# sqlgate suppressions. One package has one METADATA block (OPA refuses a redeclared package
# annotation): the package's is in main.rego.
#
# Applies the `sqlgate:ignore` comments the review found (input.suppressions) to the
# findings main.rego gathered, before main.rego decides: one piece of code decides,
# after suppression (docs/suppressions.md). A comment without a reason, naming an
# unknown rule, suppressing nothing, or naming a rule that cannot be suppressed is
# itself a finding and suppresses nothing.
package sqlgate.main

import rego.v1

default suppress_config := {}

suppress_config := data.sqlgate.config.suppress

# Rules no comment can silence: the data file's list plus every destructive gate (the
# floor holds even if the data file is edited).
unsuppressible contains r if some r in object.get(suppress_config, "unsuppressible", [])

unsuppressible contains r if destructive[r]

# A rule id the policy knows: every rule has a configured level.
known_rule(r) if defaults[r]

known_rule(r) if destructive[r]

directives := object.get(input, "suppressions", [])

well_formed(d) if is_null(object.get(d, "error", null))

# Directive d may silence rule r.
effective(d, r) if {
	well_formed(d)
	r in d.rules
	known_rule(r)
	not unsuppressible[r]
}

covers(d, f) if {
	effective(d, f.rule)
	f.file == d.file
	f.statement in d.statements
}

suppressed(f) if {
	some d in directives
	covers(d, f)
}

# The findings before suppression (the keyed set main.rego builds).
unsuppressed_findings := [k[3] | some k in keyed]

# Every finding a directive silenced, as listed in the check result.
applied_suppressions := sort([s |
	some f in unsuppressed_findings
	some d in directives
	covers(d, f)
	s := {"rule": f.rule, "file": f.file, "line": f.line, "reason": d.reason, "scope": d.scope}
])

meta_level(rule) := valid(object.get(suppress_config, ["levels", rule], "deny"))

meta_finding(d, rule, message, help) := {
	"rule": rule,
	"level": meta_level(rule),
	"statement": object.get(d, "anchor", 0),
	"file": d.file,
	"line": d.line,
	"column": 1,
	"message": message,
	"help": help,
}

suppression_findings contains meta_finding(
	d, "suppression-invalid",
	sprintf("sqlgate:%v comment %v", [kind, d.error]),
	"Write it as: -- sqlgate:ignore rule-id, other-id -- why this is safe",
) if {
	some d in directives
	not well_formed(d)
	kind := {"statement": "ignore", "file": "ignore-file"}[d.scope]
}

suppression_findings contains meta_finding(
	d, "suppression-unused",
	sprintf("sqlgate:ignore names %v, which is not a rule", [r]),
	"Check the rule id against the findings or policies/README.md; the comment suppresses nothing.",
) if {
	some d in directives
	well_formed(d)
	some r in d.rules
	not known_rule(r)
}

suppression_findings contains meta_finding(
	d, "suppression-not-allowed",
	sprintf("%v cannot be suppressed by a comment; the finding stands", [r]),
	"Destructive gates need an approval on the verdict, not a comment.",
) if {
	some d in directives
	well_formed(d)
	some r in d.rules
	unsuppressible[r]
}

suppression_findings contains meta_finding(
	d, "suppression-unused",
	sprintf("sqlgate:ignore %v suppresses nothing here", [r]),
	"Remove the comment, or move it right before the statement the finding is on.",
) if {
	some d in directives
	some r in d.rules
	effective(d, r)
	not used(d, r)
}

used(d, r) if {
	some f in unsuppressed_findings
	f.rule == r
	covers(d, f)
}

suppression_keyed contains [f.statement, f.rule, f.message, f] if {
	some f in suppression_findings
}
