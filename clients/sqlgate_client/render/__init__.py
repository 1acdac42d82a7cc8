"""Output formats for a check result: a registry of renderers, found by module.

A renderer is ``render(result, sources) -> str``: ``result`` is the result dict of
``sqlgate_client.convert`` (identical for remote and ``--local`` checks) and ``sources``
maps each submitted path to its text, for formats that quote the offending line.
Each format is one module here exposing ``FORMAT`` (its name) and ``render``; modules
that are not present (yet) are simply not offered.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

Renderer = Callable[[Mapping[str, Any], Mapping[str, str]], str]

# Candidate modules, in the order --help lists the formats.
_MODULES = ("text", "json_", "sarif", "github", "gitlab", "markdown")


def _discover() -> dict[str, Renderer]:
    formats: dict[str, Renderer] = {}
    for name in _MODULES:
        qualified = f"{__name__}.{name}"
        try:
            module = importlib.import_module(qualified)
        except ModuleNotFoundError as exc:
            if exc.name != qualified:
                raise
            continue
        formats[str(getattr(module, "FORMAT", name.rstrip("_")))] = module.render
    return formats


FORMATS: dict[str, Renderer] = _discover()


def render(fmt: str, result: Mapping[str, Any], sources: Mapping[str, str]) -> str:
    """Render ``result`` in format ``fmt``; ValueError for a format that is not available."""
    try:
        renderer = FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown format {fmt!r} (available: {', '.join(FORMATS)})") from None
    return renderer(result, sources)
