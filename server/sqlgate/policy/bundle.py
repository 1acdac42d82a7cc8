"""Load a policy tree (policies/) into an immutable, digested `PolicySet`.

Layout read here:

- every ``*.rego`` under the root (hidden directories skipped); files ending in
  ``_test.rego`` are tests, kept apart so they are never part of what decides a verdict;
- data files ``data/**/*.yaml|yml|json``: ``data/<a>/<b>.yaml`` is mounted at
  ``data.sqlgate.config.<a>.<b>`` (so ``data/levels.yaml`` is ``data.sqlgate.config.levels``).

Files are read in sorted relative-path order so two loads of the same bytes are identical.

Digest: ``"sha256:" + hex`` of SHA-256 over the policy and data files (tests excluded),
sorted by relative POSIX path; for each file the hash is fed ``path`` (UTF-8), a NUL byte,
the byte length as 8 bytes big-endian, then the exact bytes. Any edit, rename, addition or
removal of a policy or data file changes it; editing a test or a README does not.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import regorus
import yaml

from sqlgate.errors import PolicyLoadError
from sqlgate.policy.engine import engine_error_text

DATA_DIR = "data"
DATA_MOUNT = ("sqlgate", "config")
DATA_SUFFIXES = (".yaml", ".yml", ".json")
TEST_SUFFIX = "_test.rego"


@dataclass(frozen=True)
class PolicyFile:
    """One Rego module: its path relative to the root and its text."""

    path: str
    text: str


@dataclass(frozen=True)
class PolicySet:
    """A loaded, compiled-once policy tree. `data` is the document mounted under `data`."""

    root: Path
    modules: tuple[PolicyFile, ...]
    tests: tuple[PolicyFile, ...]
    data: Mapping[str, Any]
    data_files: tuple[str, ...]
    digest: str
    packages: tuple[str, ...] = field(default=())
    # The data files' exact bytes (relative path, bytes), as digested.
    data_sources: tuple[tuple[str, bytes], ...] = field(default=())

    def new_engine(self, *, with_tests: bool = False) -> regorus.Engine:
        """A fresh regorus engine holding the modules (and tests if asked) and the data."""
        engine = regorus.Engine()
        files = self.modules + (self.tests if with_tests else ())
        for module in files:
            try:
                engine.add_policy(module.path, module.text)
            except Exception as exc:  # regorus raises plain exceptions for parse errors
                raise PolicyLoadError(f"{module.path}: {engine_error_text(exc)}") from exc
        try:
            engine.add_data_json(json.dumps(self.data))
        except Exception as exc:
            raise PolicyLoadError(f"policy data: {engine_error_text(exc)}") from exc
        return engine


def _visible_files(root: Path) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        found.append(path)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _decode(raw: bytes, rel: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyLoadError(f"{rel}: cannot read: {engine_error_text(exc)}") from exc


def _parse_data(rel: str, raw: bytes) -> Any:
    try:
        if rel.endswith(".json"):
            return json.loads(raw)
        return yaml.safe_load(raw)
    except (ValueError, yaml.YAMLError) as exc:
        raise PolicyLoadError(f"{rel}: malformed data: {engine_error_text(exc)}") from exc


def _mount(tree: dict[str, Any], keys: tuple[str, ...], value: Any, rel: str) -> None:
    node = tree
    for key in keys[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise PolicyLoadError(f"{rel}: data path {'.'.join(keys)} collides with another file")
        node = child
    if keys[-1] in node:
        raise PolicyLoadError(f"{rel}: data path {'.'.join(keys)} is defined twice")
    node[keys[-1]] = value


def digest_files(files: list[tuple[str, bytes]]) -> str:
    """The documented policy digest over (relative path, bytes) pairs."""
    h = hashlib.sha256()
    for rel, raw in sorted(files):
        h.update(rel.encode("utf-8"))
        h.update(b"\0")
        h.update(len(raw).to_bytes(8, "big"))
        h.update(raw)
    return "sha256:" + h.hexdigest()


def load_policy_set(root: Path) -> PolicySet:
    """Read, digest and compile the tree at `root`; PolicyLoadError names the bad file."""
    if not root.is_dir():
        raise PolicyLoadError(f"{root}: policy directory not found")
    files = []
    for path in _visible_files(root):
        rel = path.relative_to(root).as_posix()
        if path.suffix == ".rego" or (
            rel.startswith(DATA_DIR + "/") and path.suffix in DATA_SUFFIXES
        ):
            try:
                files.append((rel, path.read_bytes()))
            except OSError as exc:
                raise PolicyLoadError(f"{rel}: cannot read: {engine_error_text(exc)}") from exc
    return policy_set_from_files(files, root=root)


def policy_set_from_files(files: list[tuple[str, bytes]], *, root: Path) -> PolicySet:
    """Digest and compile a tree given as (relative path, bytes) pairs — read from a
    directory or from a bundle; `root` names where it came from. Other files are ignored."""
    modules: list[PolicyFile] = []
    tests: list[PolicyFile] = []
    data: dict[str, Any] = {}
    data_files: list[str] = []
    data_sources: list[tuple[str, bytes]] = []
    digested: list[tuple[str, bytes]] = []
    for rel, raw in sorted(files):
        suffix = PurePosixPath(rel).suffix
        if suffix == ".rego":
            text = _decode(raw, rel)
            if rel.endswith(TEST_SUFFIX):
                tests.append(PolicyFile(rel, text))
            else:
                modules.append(PolicyFile(rel, text))
                digested.append((rel, raw))
        elif rel.startswith(DATA_DIR + "/") and suffix in DATA_SUFFIXES:
            inner = PurePosixPath(rel).relative_to(DATA_DIR).with_suffix("")
            _mount(data, DATA_MOUNT + inner.parts, _parse_data(rel, raw), rel)
            data_files.append(rel)
            data_sources.append((rel, raw))
            digested.append((rel, raw))
    if not modules:
        raise PolicyLoadError(f"{root}: no .rego policy files")
    policy_set = PolicySet(
        root=root,
        modules=tuple(modules),
        tests=tuple(tests),
        data=data,
        data_files=tuple(data_files),
        digest=digest_files(digested),
        data_sources=tuple(data_sources),
    )
    # Compile the policies once now so a broken file fails at load, naming the file. Test
    # modules are compiled only by `policy test` (sqlgate.policy.testing), which fails on a
    # broken one: they never decide a verdict, and compiling them cost every start-up.
    engine = policy_set.new_engine()
    packages = tuple(sorted(str(p) for p in engine.get_packages()))
    return dataclasses.replace(policy_set, packages=packages)
