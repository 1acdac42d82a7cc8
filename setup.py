"""Build step that ships the top-level ``policies/`` tree inside the wheel.

The policy tree stays at the repository root (rule authors edit it there); a wheel
carries a copy at ``sqlgate/_policies`` so an installed ``sqlgate`` finds its policies
without a checkout (``sqlgate.config.default_policies_dir``). Everything else is in
pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
POLICY_SUFFIXES = {".rego", ".json", ".yaml", ".yml", ".sql", ".md"}


class BuildWithPolicies(build_py):
    """build_py, then copy policies/ into <build_lib>/sqlgate/_policies."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads the checkout's policies/ directly
        source = ROOT / "policies"
        if not source.is_dir():
            raise SystemExit(f"{source}: policy tree missing, cannot build sqlgate")
        target = Path(self.build_lib) / "sqlgate" / "_policies"
        if target.exists():
            shutil.rmtree(target)
        for path in sorted(source.rglob("*")):
            if path.is_file() and path.suffix in POLICY_SUFFIXES:
                dest = target / path.relative_to(source)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)


setup(cmdclass={"build_py": BuildWithPolicies})
