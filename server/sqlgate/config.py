"""The server's configuration: a typed dataclass tree, optionally read from YAML.

Each section is a frozen dataclass; ``load_config`` builds the tree from a mapping and
rejects unknown keys and wrong types with ConfigError, so a typo in a config file
stops the server at start-up instead of being silently ignored. New sections (store,
keys, principals, roles) are added as new fields of ``ServerConfig`` plus one entry in
``_SECTIONS``.
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
POLICIES_ENV = "SQLGATE_POLICIES"


def default_policies_dir() -> Path:
    """SQLGATE_POLICIES if set, else the repository's policies/ next to server/."""
    env = os.environ.get(POLICIES_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "policies"


@dataclasses.dataclass(frozen=True)
class LimitsConfig:
    """Request limits, checked before any parsing; exceeding one is INVALID_ARGUMENT."""

    max_message_bytes: int = 48 * 1024 * 1024
    max_files: int = 2000
    max_file_bytes: int = 4 * 1024 * 1024
    max_total_bytes: int = 32 * 1024 * 1024
    max_statements: int = 50_000
    max_nesting: int = 200


@dataclasses.dataclass(frozen=True)
class PolicyConfig:
    """Where the Rego policies live and how long one evaluation may take."""

    dir: Path = dataclasses.field(default_factory=default_policies_dir)
    timeout_s: float = 5.0


@dataclasses.dataclass(frozen=True)
class ServerConfig:
    """Root of the configuration tree."""

    listen: str = DEFAULT_LISTEN
    max_workers: int = 8
    grace_s: float = 5.0
    policies: PolicyConfig = dataclasses.field(default_factory=PolicyConfig)
    limits: LimitsConfig = dataclasses.field(default_factory=LimitsConfig)


_T = TypeVar("_T")

# Nested sections: field name → dataclass type. Everything else is a scalar.
_SECTIONS: dict[str, type[Any]] = {"policies": PolicyConfig, "limits": LimitsConfig}


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
    if annotation == "float":
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"{where}: expected a positive number, got {value!r}")
        return float(value)
    raise ConfigError(f"{where}: unsupported setting type {annotation}")  # pragma: no cover


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
        section = _SECTIONS.get(name) if cls is ServerConfig else None
        if section is not None:
            values[name] = _build(section, value, key)
        else:
            values[name] = _coerce(key, value, str(fields[name].type))
    return cls(**values)


def config_from_mapping(raw: Mapping[str, Any]) -> ServerConfig:
    """Build a ServerConfig from a parsed mapping; ConfigError on anything unexpected."""
    return _build(ServerConfig, raw, "")


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
    config: ServerConfig, *, listen: str | None = None, policies_dir: Path | None = None
) -> ServerConfig:
    """Apply command-line overrides on top of a loaded config."""
    if listen is not None:
        config = dataclasses.replace(config, listen=listen)
    if policies_dir is not None:
        config = dataclasses.replace(
            config, policies=dataclasses.replace(config.policies, dir=policies_dir)
        )
    return config
