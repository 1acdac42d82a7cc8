# METADATA
# title: Environment not allowed by the migration's metadata
# description: The migration declares the environments it may run in; this check's environment is not one of them.
# custom:
#   id: environment-not-allowed
#   level: deny
package sqlgate.rules.meta.environment_not_allowed

import rego.v1

report contains {
	"rule": "environment-not-allowed",
	"statement": i,
	"message": sprintf("%v may only run in %v, not in %v", [f.path, concat(", ", envs), env]),
	"help": "Run it only where its metadata allows, or add this environment to its environments list.",
} if {
	env := object.get(input, "environment", "")
	some f in object.get(input, "files", [])
	envs := object.get(f, ["metadata", "environments"], null)
	is_array(envs)
	not env in envs
	i := min([s.index | some s in input.statements; s.file == f.path])
}
