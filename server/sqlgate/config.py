"""The server's configuration: a typed dataclass tree, optionally read from YAML.

Each section is a frozen dataclass; ``load_config`` builds the tree from a mapping and
rejects unknown keys and wrong types with ConfigError, so a typo in a config file
stops the server at start-up instead of being silently ignored. New sections (store,
keys, principals, roles) are added as new fields of ``ServerConfig`` plus one entry in
``_SECTIONS`` (or ``_PARSERS`` for sections keyed by name, like ``principals``).

Trust sections: ``store`` (URL), ``keys`` (key directory; else SQLGATE_KEYS_DIR or
SQLGATE_<PURPOSE>_KEY), ``tls`` (server certificate and client CA for mTLS),
``principals`` (who may call, with which credentials and roles) and ``approvals`` (what
each environment needs). docs/config.md documents them with a full example.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from sqlgate.errors import ConfigError

DEFAULT_LISTEN = "127.0.0.1:50051"
DEFAULT_STORE = "sqlite:///.sqlgate/sqlgate.db"
ROLES = ("author", "ci", "approver", "security", "operator", "runner", "auditor")
DEFAULT_DESTRUCTIVE_RULES = (
    "drop-table",
    "drop-column",
    "truncate",
    "drop-schema",
    "delete-without-where",
    "unbatched-backfill",
)
POLICIES_ENV = "SQLGATE_POLICIES"


def default_policies_dir() -> Path:
    """SQLGATE_POLICIES if set, else the tree shipped in the package (``sqlgate/_policies``,
    copied there by setup.py when a wheel is built), else the checkout's policies/ next
    to server/ (editable installs and running from the repository)."""
    env = os.environ.get(POLICIES_ENV)
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    packaged = here / "_policies"
    if packaged.is_dir():
        return packaged
    return here.parent.parent / "policies"


@dataclasses.dataclass(frozen=True)
class LimitsConfig:
    """Request limits, checked before any parsing; exceeding one is INVALID_ARGUMENT."""

    max_message_bytes: int = 48 * 1024 * 1024
    max_files: int = 2000
    max_file_bytes: int = 4 * 1024 * 1024
    max_total_bytes: int = 32 * 1024 * 1024
    max_statements: int = 50_000
    max_nesting: int = 200
    # Admission control (sqlgate.rpc.admission): a Check whose input (migrations,
    # sidecars, variables, catalog) reaches `large_request_bytes` is large work; at most
    # `max_large_running` run at once, `max_large_queued` more wait (each at most
    # `large_queue_wait_s` and its deadline), the rest get RESOURCE_EXHAUSTED at once.
    # Small checks never wait for large ones.
    large_request_bytes: int = 256 * 1024
    max_large_running: int = 1
    max_large_queued: int = 4
    large_queue_wait_s: float = 60.0


POLICY_ISOLATIONS = ("process", "thread")
POLICY_ENGINES = ("embedded", "opa")


@dataclasses.dataclass(frozen=True)
class OpaConfig:
    """A remote OPA server (``policies.engine: opa``), queried through its Data API.

    ``ca`` verifies an https OPA's certificate (else the system CAs); ``client_cert`` and
    ``client_key`` authenticate sqlgate to it (mTLS); the bearer token is read from the
    environment variable ``token_env`` or the file ``token_file``, never written in the
    config. ``bundle`` is the bundle whose revision OPA must report: it must equal the
    digest of ``policies.dir`` (the tree the bundle was built from), else deny.
    """

    url: str
    ca: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    token_env: str | None = None
    token_file: Path | None = None
    bundle: str = "sqlgate"


@dataclasses.dataclass(frozen=True)
class PolicyConfig:
    """Where the Rego policies live and how long one evaluation may take.

    The budget is ``timeout_s`` plus ``timeout_per_1k_statements_s`` per 1,000 statements
    (evaluation is linear in the statement count): with the defaults, a 50,000-statement
    set (limits.max_statements) gets 30 s, about twice its measured evaluation time on a
    loaded 2-core machine (bench/policy_bench.py).
    """

    dir: Path = dataclasses.field(default_factory=default_policies_dir)
    timeout_s: float = 5.0
    timeout_per_1k_statements_s: float = 0.5
    # "process": worker processes, an overrun is killed at its budget
    # (sqlgate.policy.isolated); "thread": in-process, the budget is only checked after
    # the evaluation returns and a runaway stalls the server (sqlgate.policy.embedded).
    isolation: str = "process"
    # "embedded": regorus in this server; "opa": the remote OPA in ``opa`` (same budget).
    engine: str = "embedded"
    opa: OpaConfig | None = None
    # A bundle file or http(s) URL (``sqlgate policy build``) instead of ``dir``; a URL is
    # polled every ``bundle_poll_s`` with If-None-Match and needs ``verification_key``
    # (PEM public key the bundle's signature must verify with).
    bundle: str | None = None
    verification_key: Path | None = None
    bundle_poll_s: float = 30.0

    def __post_init__(self) -> None:
        if self.isolation not in POLICY_ISOLATIONS:
            raise ConfigError(
                f"policies.isolation: expected one of {', '.join(POLICY_ISOLATIONS)}, "
                f"got {self.isolation!r}"
            )
        if self.engine not in POLICY_ENGINES:
            raise ConfigError(
                f"policies.engine: expected one of {', '.join(POLICY_ENGINES)}, got {self.engine!r}"
            )
        if self.engine == "opa" and self.opa is None:
            raise ConfigError("policies.engine: opa needs a policies.opa section with a url")
        if self.opa is not None and (self.opa.client_cert is None) != (self.opa.client_key is None):
            raise ConfigError("policies.opa: set both client_cert and client_key, or neither")
        if (
            self.bundle is not None
            and self.bundle.startswith(("http://", "https://"))
            and self.verification_key is None
        ):
            raise ConfigError("policies.bundle: a bundle URL needs policies.verification_key")
        if self.opa is not None and self.opa.token_env and self.opa.token_file:
            raise ConfigError("policies.opa: set token_env or token_file, not both")


@dataclasses.dataclass(frozen=True)
class DecisionLogConfig:
    """Decision logs in OPA's shape (sqlgate.policy.decision_log): a JSON-lines ``file``
    and/or an http(s) ``url`` (gzip JSON arrays); the input itself only with
    ``include_input`` (its digest always)."""

    file: Path | None = None
    url: str | None = None
    include_input: bool = False

    def __post_init__(self) -> None:
        if self.file is None and self.url is None:
            raise ConfigError("decision_logs: set file, url or both")
        if self.url is not None and not self.url.startswith(("http://", "https://")):
            raise ConfigError(f"decision_logs.url: expected http(s)://..., got {self.url!r}")


@dataclasses.dataclass(frozen=True)
class TlsConfig:
    """Server certificate and key (PEM); with ``client_ca``, clients must present a
    certificate that CA signed (mTLS), and its identity maps to a principal."""

    cert: Path
    key: Path
    client_ca: Path | None = None


@dataclasses.dataclass(frozen=True)
class PrincipalConfig:
    """One caller: stable id, credentials that identify it, roles per environment.

    ``tokens`` holds only ``sha256:<hex>`` of each API token; ``certs`` names verified
    client certificates as ``uri:<SAN URI>``, ``dns:<SAN DNS>`` or ``cn:<subject CN>``;
    ``roles`` maps a role to the environments it holds in (``"*"``: all);
    ``repositories`` are the ``org/repo`` names its checks may be about (docs/config.md
    "Repository binding"): the policy's ``input.repo`` comes from here, not the request.
    """

    id: str
    tokens: tuple[str, ...] = ()
    certs: tuple[str, ...] = ()
    roles: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    repositories: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class EnvironmentRules:
    """What a decision needs in one environment."""

    approvers: int = 1
    destructive_break_glass: bool = True
    break_glass_overrides_deny: bool = False
    # Every verdict here needs ``approvers`` human approvals, even when the policy allows.
    always: bool = False
    # Before a token here: a passing rehearsal of the same files in the environment
    # before this one in ``approvals.promotion`` (sqlgate.promotion), and with
    # ``require_rollback_test`` one whose rollback test passed.
    require_rehearsal: bool = False
    require_rollback_test: bool = False


@dataclasses.dataclass(frozen=True)
class ApprovalsConfig:
    """Verdict lifetime, break-glass lifetime, destructive gates, per-environment rules.

    ``environments`` is keyed by environment name; ``"*"`` applies to environments not
    listed (without it, the ``EnvironmentRules`` defaults apply).
    """

    verdict_ttl_s: float = 24 * 3600.0
    break_glass_ttl_s: float = 3600.0
    destructive_rules: tuple[str, ...] = DEFAULT_DESTRUCTIVE_RULES
    environments: Mapping[str, EnvironmentRules] = dataclasses.field(default_factory=dict)
    # The promotion order, e.g. (dev, staging, production): what "previous" means.
    promotion: tuple[str, ...] = ()

    def previous(self, environment: str) -> str | None:
        """The environment before ``environment`` in the promotion order, if any."""
        if environment not in self.promotion:
            return None
        i = self.promotion.index(environment)
        return self.promotion[i - 1] if i > 0 else None

    def for_environment(self, environment: str) -> EnvironmentRules:
        rules = self.environments.get(environment) or self.environments.get("*")
        return rules or EnvironmentRules()


@dataclasses.dataclass(frozen=True)
class EnvironmentConfig:
    """A declared environment: the targets (database names) that belong to it."""

    targets: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class TargetConfig:
    """A database the server reads catalogs from: a read-only role's DSN, or the name of
    the environment variable holding it (so the config file holds no password)."""

    dsn: str | None = None
    dsn_env: str | None = None
    catalog_ttl_s: float = 300.0


UNBOUND_REPOSITORY = ("org-policy", "refuse")


@dataclasses.dataclass(frozen=True)
class ServerConfig:
    """Root of the configuration tree."""

    listen: str = DEFAULT_LISTEN
    max_workers: int = 8
    # Parse processes per review: 1 parses in the request thread; N > 1 spreads a large set
    # over a pool of N (measured: no gain on 2 cores, bench/parse_bench.py).
    parse_workers: int = 1
    grace_s: float = 5.0
    policies: PolicyConfig = dataclasses.field(default_factory=PolicyConfig)
    decision_logs: DecisionLogConfig | None = None
    limits: LimitsConfig = dataclasses.field(default_factory=LimitsConfig)
    store: str = DEFAULT_STORE
    keys: Path | None = None
    audit_checkpoint_every: int = 100
    # Every signed checkpoint is also appended here (sqlgate.audit.export): the anchor
    # that makes truncating or rewriting the store's log detectable.
    audit_checkpoint_file: Path | None = None
    tls: TlsConfig | None = None
    principals: tuple[PrincipalConfig, ...] = ()
    approvals: ApprovalsConfig = dataclasses.field(default_factory=ApprovalsConfig)
    token_ttl_s: int = 300  # execution token lifetime; at most 900 (checked at start-up)
    # Named targets whose catalog the server reads itself (sqlgate.targets).
    targets: Mapping[str, TargetConfig] = dataclasses.field(default_factory=dict)
    # Prometheus /metrics on its own host:port ("" = off; sqlgate.observe.metrics).
    metrics_listen: str = ""
    # "text" or "json" (one object per line; sqlgate.observe.logs).
    log_format: str = "text"
    # The declared environments and their targets (sqlgate.environments): a check for
    # anything else is refused; none declared refuses every server-side check.
    environments: Mapping[str, EnvironmentConfig] = dataclasses.field(default_factory=dict)
    # A Check by a principal with no ``repositories``: "org-policy" evaluates it with no
    # repository (input.repo = "", so no repository override can apply; the verdict keeps
    # the caller's claim, unverified), "refuse" refuses it (PERMISSION_DENIED).
    unbound_repository: str = "org-policy"

    def __post_init__(self) -> None:
        if self.log_format not in ("text", "json"):
            raise ConfigError(f"log_format: expected text or json, got {self.log_format!r}")
        if self.unbound_repository not in UNBOUND_REPOSITORY:
            raise ConfigError(
                f"unbound_repository: expected {' or '.join(UNBOUND_REPOSITORY)}, "
                f"got {self.unbound_repository!r}"
            )

    def principal(self, pid: str) -> PrincipalConfig | None:
        """The configured principal with this id, or None."""
        return next((p for p in self.principals if p.id == pid), None)


_T = TypeVar("_T")

# Nested sections: field name → dataclass type. Everything else is a scalar.
_SECTIONS: dict[str, type[Any]] = {
    "policies": PolicyConfig,
    "limits": LimitsConfig,
    "tls": TlsConfig,
    "decision_logs": DecisionLogConfig,
}


# Sections nested in another section: (parent dataclass, field name) → dataclass type.
_SUBSECTIONS: dict[tuple[type[Any], str], type[Any]] = {(PolicyConfig, "opa"): OpaConfig}


def _coerce(where: str, value: Any, annotation: str) -> Any:
    """Check one scalar against its annotation (annotations are strings here)."""
    if annotation == "Path":
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{where}: expected a path string, got {value!r}")
        return Path(value)
    if annotation == "str":
        if not isinstance(value, str):
            raise ConfigError(f"{where}: expected a string, got {value!r}")
        return value
    if annotation == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise ConfigError(f"{where}: expected a positive integer, got {value!r}")
        return value
    if annotation == "Path | None":
        return None if value is None else _coerce(where, value, "Path")
    if annotation == "str | None":
        if value is not None and (not isinstance(value, str) or not value):
            raise ConfigError(f"{where}: expected a non-empty string, got {value!r}")
        return value
    if annotation == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"{where}: expected true or false, got {value!r}")
        return value
    if annotation == "tuple[str, ...]":
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{where}: expected a list of non-empty strings, got {value!r}")
        return tuple(value)
    if annotation == "float":
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"{where}: expected a positive number, got {value!r}")
        return float(value)
    raise ConfigError(f"{where}: unsupported setting type {annotation}")  # pragma: no cover


def _mapping(raw: Any, where: str) -> Mapping[Any, Any]:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected a mapping, got {type(raw).__name__}")
    return raw


def _principals(raw: Any, where: str) -> tuple[PrincipalConfig, ...]:
    """``principals: {<id>: {tokens, certs, roles: {<role>: [<env>...]}}}``."""
    out = []
    for pid, body in _mapping(raw, where).items():
        key = f"{where}.{pid}"
        if not isinstance(pid, str) or not pid:
            raise ConfigError(f"{where}: principal ids must be non-empty strings")
        fields = dict(_mapping(body, key))
        roles_raw = fields.pop("roles", {})
        base = _build(PrincipalConfig, {"id": pid, **fields}, key)
        roles: dict[str, tuple[str, ...]] = {}
        for role, envs in _mapping(roles_raw, f"{key}.roles").items():
            if role not in ROLES:
                raise ConfigError(f"{key}.roles: unknown role {role!r} (known: {', '.join(ROLES)})")
            roles[role] = _coerce(f"{key}.roles.{role}", envs, "tuple[str, ...]")
        for token in base.tokens:
            if not token.startswith("sha256:") or len(token) != 71:
                raise ConfigError(f"{key}.tokens: store tokens as sha256:<64 hex>, never in clear")
            try:
                int(token[7:], 16)
            except ValueError as exc:
                raise ConfigError(f"{key}.tokens: {token[:12]}... is not hex") from exc
        for repo in base.repositories:
            owner, slash, name = repo.partition("/")
            if not owner or not slash or not name or "/" in name or repo != repo.strip():
                raise ConfigError(f"{key}.repositories: expected org/repo, got {repo!r}")
        for cert in base.certs:
            if cert.partition(":")[0] not in ("uri", "dns", "cn") or not cert.partition(":")[2]:
                raise ConfigError(f"{key}.certs: expected uri:..., dns:... or cn:..., got {cert!r}")
        out.append(dataclasses.replace(base, roles=roles))
    return tuple(out)


def _approvals(raw: Any, where: str) -> ApprovalsConfig:
    body = dict(_mapping(raw, where))
    envs_raw = body.pop("environments", {})
    base = _build(ApprovalsConfig, body, where)
    envs = {
        str(name): _build(EnvironmentRules, rules, f"{where}.environments.{name}")
        for name, rules in _mapping(envs_raw, f"{where}.environments").items()
    }
    out = dataclasses.replace(base, environments=envs)
    if len(set(out.promotion)) != len(out.promotion):
        raise ConfigError(f"{where}.promotion: an environment is listed twice")
    for name, rules in envs.items():
        needs = rules.require_rehearsal or rules.require_rollback_test
        if needs and out.previous(name) is None:
            raise ConfigError(
                f"{where}.environments.{name}: require_rehearsal/require_rollback_test need "
                f"an environment before {name!r} in {where}.promotion"
            )
    return out


def _environments(raw: Any, where: str) -> dict[str, EnvironmentConfig]:
    """``environments: {<name>: {targets: [<target>...]}}``; ``"*"`` is not a name."""
    out: dict[str, EnvironmentConfig] = {}
    for name, body in _mapping(raw, where).items():
        key = f"{where}.{name}"
        if not isinstance(name, str) or not name or name == "*":
            raise ConfigError(f"{where}: environment names must be non-empty and not '*'")
        env = _build(EnvironmentConfig, body or {}, key)
        if not env.targets:
            raise ConfigError(f"{key}.targets: declare at least one target")
        out[name] = env
    return out


# Sections with their own parser (keyed by name, or holding nested mappings).
def _targets(raw: Any, where: str) -> dict[str, TargetConfig]:
    """``targets: {<name>: {dsn | dsn_env, catalog_ttl_s}}``; exactly one of dsn, dsn_env."""
    out: dict[str, TargetConfig] = {}
    for name, body in _mapping(raw, where).items():
        key = f"{where}.{name}"
        if not isinstance(name, str) or not name:
            raise ConfigError(f"{where}: target names must be non-empty strings")
        fields = dict(_mapping(body, key))
        dsns = {opt: fields.pop(opt, None) for opt in ("dsn", "dsn_env")}
        for opt, value in dsns.items():
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigError(f"{key}.{opt}: expected a non-empty string")
        target = dataclasses.replace(_build(TargetConfig, fields, key), **dsns)
        if (target.dsn is None) == (target.dsn_env is None):
            raise ConfigError(f"{key}: set exactly one of dsn or dsn_env")
        out[name] = target
    return out


_PARSERS: dict[str, Any] = {
    "principals": _principals,
    "approvals": _approvals,
    "targets": _targets,
    "environments": _environments,
}


def _build(cls: type[_T], raw: Any, where: str) -> _T:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where or 'config'}: expected a mapping, got {type(raw).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(str(k) for k in raw if k not in fields)
    if unknown:
        raise ConfigError(f"{where or 'config'}: unknown key(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for name, value in raw.items():
        key = f"{where}.{name}" if where else name
        section = _SECTIONS.get(name) if cls is ServerConfig else _SUBSECTIONS.get((cls, name))
        parser = _PARSERS.get(name) if cls is ServerConfig else None
        if parser is not None:
            values[name] = parser(value, key)
        elif section is not None:
            values[name] = _build(section, value, key)
        else:
            values[name] = _coerce(key, value, str(fields[name].type))
    return cls(**values)


def check_declarations(config: ServerConfig) -> ServerConfig:
    """A target read through a DSN belongs to exactly one declared environment."""
    if not config.environments:
        return config
    for target in config.targets:
        owners = [e for e, env in config.environments.items() if target in env.targets]
        if len(owners) != 1:
            raise ConfigError(
                f"targets.{target}: a target with a DSN must be declared in exactly one "
                f"environment (declared in {owners or 'none'})"
            )
    return config


def config_from_mapping(raw: Mapping[str, Any]) -> ServerConfig:
    """Build a ServerConfig from a parsed mapping; ConfigError on anything unexpected."""
    return check_declarations(_build(ServerConfig, raw, ""))


def load_config(path: Path | None = None) -> ServerConfig:
    """Read a YAML config file (or defaults without one)."""
    if path is None:
        return ServerConfig()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    if raw is None:
        return ServerConfig()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    try:
        return config_from_mapping(raw)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def with_overrides(
    config: ServerConfig,
    *,
    listen: str | None = None,
    policies_dir: Path | None = None,
    metrics_listen: str | None = None,
    log_format: str | None = None,
) -> ServerConfig:
    """Apply command-line overrides on top of a loaded config."""
    if listen is not None:
        config = dataclasses.replace(config, listen=listen)
    if metrics_listen is not None:
        config = dataclasses.replace(config, metrics_listen=metrics_listen)
    if log_format is not None:
        config = dataclasses.replace(config, log_format=log_format)
    if policies_dir is not None:
        config = dataclasses.replace(
            config, policies=dataclasses.replace(config.policies, dir=policies_dir)
        )
    return config


# What operators inject into a container: environment variable -> how it overrides the
# file. Command-line flags still win over these (``with_overrides`` runs after).
ENV_OVERRIDES = {
    "SQLGATE_LISTEN": "listen",
    "SQLGATE_STORE": "store",
    "SQLGATE_KEYS_DIR": "keys",
    "SQLGATE_METRICS_LISTEN": "metrics_listen",
    "SQLGATE_LOG_FORMAT": "log_format",
    "SQLGATE_OPA_URL": "policies.opa.url",
}


def with_env(config: ServerConfig, environ: Mapping[str, str] | None = None) -> ServerConfig:
    """Apply the SQLGATE_* overrides in ``environ`` (default: os.environ) to ``config``.

    SQLGATE_POLICIES is already the default of ``policies.dir``; an explicit
    ``policies.dir`` in the file wins over it only when the variable is unset, so the
    variable overrides here too. SQLGATE_OPA_URL needs a ``policies.opa`` section (the
    engine choice stays in the file).
    """
    env = os.environ if environ is None else environ
    for name, target in ENV_OVERRIDES.items():
        value = env.get(name)
        if not value:
            continue
        if target == "keys":
            config = dataclasses.replace(config, keys=Path(value))
        elif target == "policies.opa.url":
            if config.policies.opa is None:
                raise ConfigError(f"{name} is set but the config has no policies.opa section")
            opa = dataclasses.replace(config.policies.opa, url=value)
            config = dataclasses.replace(
                config, policies=dataclasses.replace(config.policies, opa=opa)
            )
        else:
            fields: dict[str, Any] = {target: value}
            config = dataclasses.replace(config, **fields)
    policies = env.get(POLICIES_ENV)
    if policies:
        config = dataclasses.replace(
            config, policies=dataclasses.replace(config.policies, dir=Path(policies))
        )
    return config
