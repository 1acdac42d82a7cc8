"""The thin client must not depend on the server, the SQL parsers or the Rego engine.

A static rule over every module in clients/sqlgate_client (the generated stubs
excluded), and a dynamic one: importing the client's modules in a fresh interpreter
must leave none of the forbidden packages in sys.modules.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "clients" / "sqlgate_client"
FORBIDDEN = ("sqlgate", "sqlglot", "sqlglotc", "regorus", "pglast", "regopy")


def _client_files() -> list[Path]:
    return sorted(p for p in CLIENT.rglob("*.py") if "gen" not in p.relative_to(CLIENT).parts)


def _top_level_imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) for every absolute import in the module."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            found.append((node.lineno, node.args[0].value.split(".")[0]))
    return found


def _violations(path: Path) -> list[str]:
    return [
        f"{path.relative_to(ROOT)}:{line}: imports {name}"
        for line, name in _top_level_imports(path)
        if name in FORBIDDEN
    ]


def test_client_sources_exist() -> None:
    files = _client_files()
    assert any(p.name == "check.py" for p in files)
    assert any(p.name == "convert.py" for p in files)


@pytest.mark.parametrize("path", _client_files(), ids=lambda p: str(p.relative_to(CLIENT)))
def test_client_module_imports_nothing_forbidden(path: Path) -> None:
    assert _violations(path) == []


def test_static_rule_catches_a_forbidden_import(tmp_path: Path) -> None:
    """The rule itself must be able to fail."""
    src = "import os\nfrom sqlgate.review import review\nimport sqlglot.expressions\n"
    tree_file = tmp_path / "probe.py"
    tree_file.write_text(src)
    names = [name for _, name in _top_level_imports(tree_file)]
    assert "sqlgate" in names and "sqlglot" in names
    assert [n for n in names if n in FORBIDDEN] == ["sqlgate", "sqlglot"]


def test_importing_the_client_loads_no_forbidden_package() -> None:
    modules = sorted(
        "sqlgate_client." + ".".join(p.relative_to(CLIENT).with_suffix("").parts)
        for p in _client_files()
        if p.name != "__init__.py"
    )
    script = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        f"print(json.dumps(sorted(n for n in sys.modules if n.split('.')[0] in {FORBIDDEN!r})))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == []
