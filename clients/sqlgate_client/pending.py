"""Which files of a migration set are already applied (context) and which are pending.

A reviewed set has *context* files (already applied: replayed into the schema model,
never reported on) and *pending* files (the change under review). Three ways to say
which is which, all resolving to a set of context paths:

- ``--since VERSION``: files up to and including VERSION are context;
- ``--base GIT_REF``: files whose bytes are unchanged since the merge base of HEAD and
  GIT_REF are context (the natural CI default: the pull request's new and edited files
  are pending);
- the target's own history table, read by ``sqlgate catalog`` (``applied_versions``).

Stdlib only: the CLI resolves ``--base`` here, the server resolves ``--since`` and the
catalog history with the same functions, so both sides agree.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path, PurePosixPath

_FLYWAY = re.compile(r"^[VU](\d+(?:[._]\d+)*)__.*\.sql$", re.IGNORECASE)
# golang-migrate 0003_x.up.sql, goose/dbmate/sql-migrate 20230101120000_x.sql, 3_x.sql.
_NUMBERED = re.compile(r"^(\d+)(?:[_.-].*)?\.sql$", re.IGNORECASE)
_DOTTED = re.compile(r"^\d+(?:[._]\d+)*$")


class PendingError(ValueError):
    """The context/pending split cannot be determined: the caller's input is wrong."""


def version_of(path: str) -> str:
    """The version a migration tool records for this file (``1.2``, ``3``), or its stem.

    Flyway ``V1_2__x.sql`` -> ``1.2``; a leading number (golang-migrate, goose, dbmate,
    sql-migrate) -> that number without leading zeros; anything else -> the file name
    without ``.sql``.
    """
    name = PurePosixPath(path).name
    if m := _FLYWAY.match(name):
        return ".".join(str(int(p)) for p in re.split(r"[._]", m.group(1)))
    if m := _NUMBERED.match(name):
        return str(int(m.group(1)))
    return name[:-4] if name.lower().endswith(".sql") else name


def _parts(version: str) -> tuple[int, ...] | None:
    """``1.2`` -> (1, 2); trailing zeros dropped (Flyway's 1.0 is 1); None if not numeric."""
    text = version.strip()
    if not _DOTTED.match(text):
        return None
    parts = [int(p) for p in re.split(r"[._]", text)]
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return tuple(parts)


def context_since(paths: Sequence[str], since: str) -> list[str]:
    """Files (in the given order) up to and including version ``since``.

    Numeric versions compare numerically (``--since 3`` covers 1, 2 and 3 even if 3 is
    missing). A non-numeric ``since`` must name a file's version or stem exactly; every
    file up to it is context. PendingError when ``since`` matches nothing.
    """
    wanted = _parts(since)
    if wanted is not None:
        out = []
        for p in paths:
            have = _parts(version_of(p))
            if have is None:
                raise PendingError(f"--since {since}: {p} has no numeric version to compare with")
            if have <= wanted:
                out.append(p)
        return out
    names = [version_of(p) for p in paths]
    if since not in names:
        raise PendingError(f"--since {since}: no migration file has that version")
    last = max(i for i, n in enumerate(names) if n == since)
    return list(paths[: last + 1])


def context_applied(paths: Sequence[str], applied: Iterable[str]) -> list[str]:
    """Files the target's history table records as applied.

    ``applied`` holds versions, file names or directory names (Prisma records the
    migration directory, sql-migrate the file name); a file matches by its version, its
    name, its stem or its parent directory's name.
    """
    done = {str(a).strip() for a in applied if str(a).strip()}
    numeric = {p for p in (_parts(a) for a in done) if p is not None}
    out = []
    for p in paths:
        pure = PurePosixPath(p)
        version = version_of(p)
        keys = {version, pure.name, pure.stem, pure.parent.name}
        parts = _parts(version)
        if keys & done or (parts is not None and parts in numeric):
            out.append(p)
    return out


def git_blob_sha(content: bytes) -> str:
    """The git object id of a blob with exactly these bytes."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def _git(args: Sequence[str], cwd: Path) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PendingError(f"--base: cannot run git: {exc}") from exc
    if done.returncode != 0:
        raise PendingError(f"--base: git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def context_base(files: Sequence[tuple[str, Path, bytes]], base: str) -> list[str]:
    """Display paths of the files unchanged since the merge base of HEAD and ``base``.

    ``files`` are (display path, file on disk, exact bytes). A file is context when the
    merge base holds a blob with exactly these bytes under the same repository path; a
    new, edited or untracked file is pending. PendingError outside a git repository or
    for an unknown ref.
    """
    if not files:
        return []
    cwd = files[0][1].resolve().parent
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd).strip()).resolve()
    merge_base = _git(["merge-base", "HEAD", base], cwd).strip()
    blobs: dict[str, str] = {}
    for line in _git(["ls-tree", "-r", "-z", merge_base], top).split("\0"):
        meta, sep, path = line.partition("\t")
        if sep and meta.split()[1:2] == ["blob"]:
            blobs[path] = meta.split()[2]
    out = []
    for display, file, content in files:
        try:
            rel = file.resolve().relative_to(top).as_posix()
        except ValueError as exc:
            raise PendingError(f"--base: {display} is outside the git repository {top}") from exc
        if blobs.get(rel) == git_blob_sha(content):
            out.append(display)
    return out
