"""Reuse the per-backend store fixture of tests/store."""

from store.conftest import backend

__all__ = ["backend"]
