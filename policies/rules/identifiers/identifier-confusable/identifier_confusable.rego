# METADATA
# title: Confusable identifier
# description: Identifiers that are not NFC-normalised, mix scripts (a Cyrillic e in users) or hide zero-width/bidi characters look like other names in review.
# custom:
#   id: identifier-confusable
#   level: deny
package sqlgate.rules.identifiers.identifier_confusable

import rego.v1

report contains {
	"rule": "identifier-confusable",
	"statement": s.index,
	"message": sprintf("identifier %v %s", [ident.name, problem]),
	"help": "Rename it with plain characters of one script (NFC-normalised, no zero-width or bidi control characters).",
} if {
	some s in input.statements
	some ident in object.get(object.get(s, "facts", {}), "identifiers", [])
	suspect(ident)
	some problem in problems(ident)
}

# A cheap pre-filter: only an identifier one of the checks below can flag is examined
# (almost every identifier is plain, and computing problems() per identifier dominated the
# evaluation of large sets).
suspect(ident) if ident.nfc == false

suspect(ident) if ident.invisible == true

suspect(ident) if count(ident.scripts) > 1

# Mixes one writing system uses normally (UTS #39 "highly restrictive").
allowed_mixes := [
	{"LATIN", "HAN", "HIRAGANA", "KATAKANA"},
	{"LATIN", "HAN", "BOPOMOFO"},
	{"LATIN", "HAN", "HANGUL"},
]

# Every problem of one identifier (an empty set when it is clean).
problems(ident) := {p | some p in [nfc_problem(ident), invisible_problem(ident), script_problem(ident)]; p != null}

nfc_problem(ident) := "is not NFC-normalised" if ident.nfc == false

else := null

invisible_problem(ident) := "contains invisible (zero-width, bidi control or format) characters" if {
	ident.invisible == true
} else := null

script_problem(ident) := sprintf("mixes scripts %s", [concat(", ", ident.scripts)]) if {
	scripts := {x | some x in ident.scripts}
	count(scripts) > 1
	not allowed_mix(scripts)
} else := null

allowed_mix(scripts) if {
	some mix in allowed_mixes
	count(scripts - mix) == 0
}
