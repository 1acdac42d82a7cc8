"""Parse ordered migration files into the statement model (docs/contract.md §1).

``parse_migrations`` decodes (strict UTF-8), expands template placeholders, checks
limits, splits with a lexer-aware splitter, and builds model statements: PostgreSQL
from pglast (cross-checked with sqlglot, see ``pg.py``), MySQL from sqlglot. Whatever
is not understood becomes an ``unknown`` statement carrying the reason.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

from sqlgate_client.toolformat import up_section

from sqlgate.errors import InputError, LimitExceeded
from sqlgate.model import Delete, Statement, Transaction, Unknown, Update
from sqlgate.parse.cache import FileParse, ParseCache, cache_key
from sqlgate.parse.directives import batch_directive
from sqlgate.parse.inline import inline_calls
from sqlgate.parse.placeholders import expand, expanded_bytes
from sqlgate.parse.placeholders import names as placeholder_names
from sqlgate.parse.pool import ParsePool
from sqlgate.parse.source import FileInfo, Limits, ParsedSet, SourceFile, decode, sha256_hex
from sqlgate.parse.split import Segment, TooManyStatements, split

# sqlglot logs a warning for every statement it keeps as an opaque Command; sqlgate turns
# those into explicit results (pglast model or `unknown`), so the warnings are noise.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

__all__ = [
    "FileInfo",
    "FileParse",
    "Limits",
    "ParseCache",
    "ParsePool",
    "ParsedSet",
    "SourceFile",
    "parse_file",
    "parse_migrations",
]


def parse_migrations(
    files: Sequence[SourceFile],
    dialect: Literal["postgres", "mysql"],
    *,
    variables: Mapping[str, str] | None = None,
    limits: Limits = Limits(),  # noqa: B008 - immutable frozen dataclass
    cache: ParseCache | None = None,
    pool: ParsePool | None = None,
) -> ParsedSet:
    """Statements of ``files`` (kept in the order given), with ``index`` set across the set.

    ``cache`` skips files whose bytes were already parsed (see ``cache.py``); ``pool``
    parses the rest on other cores when the set is big enough (see ``pool.py``). Either
    way the result, and the first error raised in file order, are those of a plain parse.
    """
    if dialect not in ("postgres", "mysql"):
        raise InputError(f"unsupported dialect {dialect!r} (postgres or mysql)")
    _check_sizes(files, limits)
    _check_before_parsing(files, dialect, variables, limits)
    collected: list[Statement] = []
    infos: list[FileInfo] = []
    count = 0
    outcomes = _outcomes(
        files, dialect, variables=variables, max_nesting=limits.max_nesting, cache=cache, pool=pool
    )
    for file, parsed in zip(files, outcomes, strict=True):
        _check_nesting(parsed, limits.max_nesting, file.path)
        count += parsed.segments
        if count > limits.max_statements:
            raise LimitExceeded(
                f"more than {limits.max_statements} statements in the set", file=file.path
            )
        for s in parsed.statements:  # a cached parse may come from another path
            collected.append(s if s.file == file.path else dataclasses.replace(s, file=file.path))
        infos.append(FileInfo(file.path, sha256_hex(file.content), parsed.segments))
    # Bodies of functions the set defines are reviewed where the set calls them.
    expanded = inline_calls(collected, limits.max_statements, dialect)
    statements = [dataclasses.replace(s, index=i) for i, s in enumerate(expanded)]
    return ParsedSet(statements=statements, statement_count=count, files=infos)


def parse_file(
    path: str,
    content: bytes,
    dialect: str,
    variables: Mapping[str, str] | None,
    max_nesting: int,
) -> FileParse:
    """One file's statements (file-local index, transactions marked); the unit of caching.

    Only a goose/dbmate/sql-migrate file's Up section is read (sqlgate_client.toolformat,
    as the runner does): its Down section is the rollback, not a forward change."""
    text = expand(up_section(decode(SourceFile(path, content))).text, variables, path=path)
    segments = split(text, dialect)  # type: ignore[arg-type]
    records: list[tuple[int, int]] = []
    deepest = 0
    for seg in segments:
        if seg.depth > deepest:
            deepest = seg.depth
            records.append((seg.line, seg.depth))
    parsed = FileParse((), len(segments), tuple(records))
    _check_nesting(parsed, max_nesting, path)
    built = _mark_transactions(_build_file(path, text, segments, dialect))
    return FileParse(tuple(built), len(segments), tuple(records))


def _check_nesting(parsed: FileParse, max_nesting: int, path: str) -> None:
    for line, depth in parsed.depth_records:
        if depth > max_nesting:
            raise LimitExceeded(
                f"line {line}: nesting depth {depth} exceeds {max_nesting}", file=path
            )


def _cache_key(file: SourceFile, dialect: str, variables: Mapping[str, str] | None) -> str | None:
    """The file's cache key, or None when a placeholder has no value (the parse will say so)."""
    text = decode(file)
    used: dict[str, str] = {}
    if "{" in text:
        values = variables or {}
        for name in placeholder_names(text):
            if name not in values:
                return None
            used[name] = values[name]
    return cache_key(file.content, dialect, used)


def _outcomes(
    files: Sequence[SourceFile],
    dialect: str,
    *,
    variables: Mapping[str, str] | None,
    max_nesting: int,
    cache: ParseCache | None,
    pool: ParsePool | None,
) -> Iterator[FileParse]:
    """Each file's FileParse in order; the first failing file (in order) raises its error."""
    if cache is None and pool is None:
        for f in files:
            yield parse_file(f.path, f.content, dialect, variables, max_nesting)
        return
    keys: list[str | None] = []
    found: list[FileParse | InputError | None] = []
    for f in files:
        try:
            key = _cache_key(f, dialect, variables) if cache is not None else None
        except InputError as exc:  # raised in order below, exactly where a parse would
            keys.append(None)
            found.append(exc)
            continue
        keys.append(key)
        found.append(cache.get(key) if cache is not None and key is not None else None)
    todo = [f for f, hit in zip(files, found, strict=True) if hit is None]
    futures = (
        pool.submit_all(todo, dialect, variables, max_nesting)
        if pool is not None and pool.worth_it(todo)
        else None
    )
    try:
        n = 0
        for f, key, earlier in zip(files, keys, found, strict=True):
            if isinstance(earlier, InputError):
                raise earlier
            if earlier is not None:
                yield earlier
                continue
            if futures is not None and pool is not None:
                fresh = pool.result(futures[n])
                n += 1
            else:
                fresh = parse_file(f.path, f.content, dialect, variables, max_nesting)
            if cache is not None and key is not None:
                cache.put(key, fresh)
            yield fresh
    finally:
        if futures is not None:
            for fut in futures:
                fut.cancel()


def _check_sizes(files: Sequence[SourceFile], limits: Limits) -> None:
    if len(files) > limits.max_files:
        raise LimitExceeded(f"{len(files)} files exceed the limit of {limits.max_files}")
    total = 0
    for f in files:
        if len(f.content) > limits.max_file_bytes:
            raise LimitExceeded(
                f"{len(f.content)} bytes exceed the per-file limit of {limits.max_file_bytes}",
                file=f.path,
            )
        total += len(f.content)
        if total > limits.max_total_bytes:
            raise LimitExceeded(
                f"total size exceeds the limit of {limits.max_total_bytes} bytes", file=f.path
            )


def _check_before_parsing(
    files: Sequence[SourceFile],
    dialect: str,
    variables: Mapping[str, str] | None,
    limits: Limits,
) -> None:
    """Expanded sizes, then the statement count, before any file is expanded or parsed.

    The count is only taken when the set could hold more statements than allowed (a
    statement and its ``;`` take at least two bytes), so ordinary sets pay nothing;
    the counting split stops one statement past the limit.
    """
    texts: list[str] = []
    total = 0
    for f in files:
        try:
            text = decode(f)
        except InputError:
            # Files from here on are never parsed: the parse raises this error when it
            # reaches the file, after any error of an earlier one (errors keep file order).
            break
        size = expanded_bytes(text, variables)
        if size > limits.max_file_bytes:
            raise LimitExceeded(
                f"{size} bytes once template placeholders are expanded exceed the per-file "
                f"limit of {limits.max_file_bytes}",
                file=f.path,
            )
        total += size
        if total > limits.max_total_bytes:
            raise LimitExceeded(
                f"total size once template placeholders are expanded exceeds the limit of "
                f"{limits.max_total_bytes} bytes",
                file=f.path,
            )
        texts.append(text)
    if total // 2 + len(files) <= limits.max_statements:
        return
    remaining = limits.max_statements
    for f, text in zip(files, texts, strict=False):
        try:
            expanded = expand(text, variables, path=f.path)
        except InputError:
            break  # a missing placeholder: raised by the parse, in file order
        try:
            count = len(split(expanded, dialect, limit=remaining))  # type: ignore[arg-type]
        except TooManyStatements:
            raise LimitExceeded(
                f"more than {limits.max_statements} statements in the set (counted before parsing)",
                file=f.path,
            ) from None
        remaining -= count


def _common(path: str, seg: Segment) -> dict[str, Any]:
    return {
        "file": path,
        "line": seg.line,
        "col": seg.column,
        "end_line": seg.end_line,
        "text": seg.text,
    }


def _build_file(path: str, text: str, segments: list[Segment], dialect: str) -> list[Statement]:
    out: list[Statement] = []
    built = (
        _pg_statements(path, text, segments)
        if dialect == "postgres"
        else [_mysql_statements(path, seg) for seg in segments]
    )
    for seg, stmts in zip(segments, built, strict=True):
        if not stmts:  # a builder that modelled nothing must not drop the statement
            reason = "sqlgate's model of this statement is empty"
            stmts = [Unknown(**_common(path, seg), reason=reason)]  # noqa: PLW2901
        batch = batch_directive(seg.comments_before)
        for s in stmts:
            if batch is not None and isinstance(s, (Update, Delete)):
                out.append(dataclasses.replace(s, batch=batch))
            else:
                out.append(s)
    return out


def _unterminated(path: str, seg: Segment) -> list[Statement] | None:
    if seg.unterminated is None:
        return None
    reason = f"unterminated {seg.unterminated}: the statement runs to the end of the file"
    return [Unknown(**_common(path, seg), reason=reason)]


def _pg_statements(path: str, text: str, segments: list[Segment]) -> list[list[Statement]]:
    from sqlgate.parse import pgfile

    return pgfile.build(path, text, segments, _common, _unterminated)


def _mysql_statements(path: str, seg: Segment) -> list[Statement]:
    import sqlglot
    from sqlglot.errors import ParseError, TokenError

    from sqlgate.parse import mysql

    bad = _unterminated(path, seg)
    if bad is not None:
        return bad
    common = _common(path, seg)
    if seg.executable_comment:
        return [
            Unknown(
                **common,
                reason="MySQL executable comment /*! ... */: its SQL runs depending on the "
                "server version and is not reviewed",
            )
        ]
    try:
        parsed = [
            e
            for e in sqlglot.parse(seg.text, read="mysql")
            if isinstance(e, sqlglot.exp.Expression)
        ]
    except (ParseError, TokenError) as exc:
        return [
            Unknown(
                **common, reason="sqlglot cannot parse this MySQL statement", detail=str(exc)[:500]
            )
        ]
    except RecursionError:
        return [Unknown(**common, reason="statement too deeply nested for the MySQL parser")]
    except Exception as exc:  # noqa: BLE001 - a sqlglot bug must refuse, not crash the review
        return [
            Unknown(
                **common, reason="sqlglot failed on this MySQL statement", detail=repr(exc)[:500]
            )
        ]
    if len(parsed) != 1:
        return [
            Unknown(
                **common,
                reason=f"the MySQL parser sees {len(parsed)} statements here, the splitter one",
            )
        ]
    try:
        return mysql.build(parsed[0], common)
    except RecursionError:  # a tree sqlglot could build but is too deep to walk again
        return [Unknown(**common, reason="statement too deeply nested for sqlgate's model")]
    except Exception as exc:  # noqa: BLE001 - an odd sqlglot tree must refuse, not crash
        return [
            Unknown(
                **common, reason="sqlgate cannot model this MySQL statement", detail=repr(exc)[:500]
            )
        ]


def _mark_transactions(statements: list[Statement]) -> list[Statement]:
    """Set ``in_transaction`` for statements between BEGIN and COMMIT/ROLLBACK in a file."""
    out: list[Statement] = []
    inside = False
    for s in statements:
        if isinstance(s, Transaction) and s.action == "begin":
            inside = True
            out.append(s)
        elif isinstance(s, Transaction) and s.action in ("commit", "rollback"):
            inside = False
            out.append(s)
        else:
            out.append(dataclasses.replace(s, in_transaction=inside) if inside else s)
    return out
