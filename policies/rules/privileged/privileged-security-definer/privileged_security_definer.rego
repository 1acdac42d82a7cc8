# METADATA
# title: SECURITY DEFINER function
# description: 'A SECURITY DEFINER function runs with its owner''s privileges for every caller: a privilege-escalation surface.'
# custom:
#   id: privileged-security-definer
#   level: approval
package sqlgate.rules.privileged.privileged_security_definer

import rego.v1

import data.sqlgate.lib

report contains {
	"rule": "privileged-security-definer",
	"statement": s.index,
	"message": sprintf("function %s is SECURITY DEFINER: it runs with its owner's privileges for every caller", [lib.field(s, "name")]),
	"help": "Prefer SECURITY INVOKER; if definer rights are needed, pin search_path in the function and get a security approver.",
	"approver_role": "security",
} if {
	some s in lib.by_kind.create_function
	s.security_definer == true
}
