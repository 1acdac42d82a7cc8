"""MySQL privileged statements that sqlglot keeps as opaque commands → model.

GRANT/REVOKE (privileges, roles, PROXY), CREATE/ALTER/DROP USER and ROLE, RENAME USER,
SET ROLE, SET DEFAULT ROLE and SET PASSWORD become the kinds PostgreSQL uses (``grant``
/ ``revoke``, ``role``, ``set`` with ``name`` = ``role``), so the ``privileged-*`` rules
fire for MySQL too. The statement is read from sqlglot's MySQL tokens with a strict
grammar: a form not matched exactly returns None and stays ``unknown`` (fail closed).
Passwords and other string literals of authentication clauses are never copied into
the model; an account is written ``user@host`` (``user`` alone without a host).
"""

from __future__ import annotations

import re
from typing import Any

from sqlglot.dialects.mysql import MySQL
from sqlglot.errors import TokenError
from sqlglot.tokenizer_core import Token, TokenType

from sqlgate import model as m

Common = dict[str, Any]
_QUOTED = (TokenType.STRING, TokenType.IDENTIFIER)
_OBJECT_TYPES = ("TABLE", "FUNCTION", "PROCEDURE")
# Clauses that may follow the account list of CREATE/ALTER USER (none carries a password
# the model keeps: only the clause name is recorded).
_USER_OPTIONS = {
    "DEFAULT": "default role",
    "REQUIRE": "require",
    "WITH": "resource limits",
    "PASSWORD": "password policy",
    "ACCOUNT": "account lock",
    "COMMENT": "comment",
    "ATTRIBUTE": "attribute",
    "FAILED_LOGIN_ATTEMPTS": "failed_login_attempts",
    "PASSWORD_LOCK_TIME": "password_lock_time",
}


class _NoMatch(Exception):
    """The statement is not the form this grammar knows: leave it unknown."""


class _Tokens:
    def __init__(self, tokens: list[Token]) -> None:
        self.toks, self.i = tokens, 0

    def peek(self, ahead: int = 0) -> Token | None:
        j = self.i + ahead
        return self.toks[j] if j < len(self.toks) else None

    def word(self, ahead: int = 0) -> str | None:
        """The upper-case keyword at the cursor (None for quoted names, strings, the end)."""
        tok = self.peek(ahead)
        return None if tok is None or tok.token_type in _QUOTED else tok.text.upper()

    def at(self, *words: str) -> bool:
        return all(self.word(k) == w for k, w in enumerate(words))

    def take(self, *words: str) -> bool:
        if self.at(*words):
            self.i += len(words)
            return True
        return False

    def need(self, *words: str) -> None:
        if not self.take(*words):
            raise _NoMatch(" ".join(words))

    def next(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise _NoMatch("unexpected end")
        self.i += 1
        return tok

    def done(self) -> bool:
        return self.i >= len(self.toks)


def _string(t: _Tokens) -> None:
    """Skip a string literal (a password or hash: never kept)."""
    if t.next().token_type is not TokenType.STRING:
        raise _NoMatch("string literal expected")


def _account(t: _Tokens) -> str:
    """``user[@host]`` with either part quoted or not; CURRENT_USER[()] as ``current_user``."""
    if t.take("CURRENT_USER") or t.take("USER"):
        paren = t.peek()
        if paren is not None and paren.token_type is TokenType.L_PAREN:
            t.next()
            if t.next().token_type is not TokenType.R_PAREN:
                raise _NoMatch("CURRENT_USER()")
        return "current_user"
    tok = t.next()
    if tok.token_type not in (TokenType.STRING, TokenType.IDENTIFIER, TokenType.VAR):
        raise _NoMatch("account expected")
    user = tok.text
    nxt = t.peek()
    if nxt is not None and nxt.token_type is TokenType.PARAMETER and nxt.text == "@":
        t.next()
        host = t.next()
        if host.token_type not in (TokenType.STRING, TokenType.IDENTIFIER, TokenType.VAR):
            raise _NoMatch("host expected")
        return f"{user}@{host.text}"
    return user


def _comma(t: _Tokens) -> bool:
    tok = t.peek()
    if tok is not None and tok.token_type is TokenType.COMMA:
        t.i += 1
        return True
    return False


def _accounts(t: _Tokens) -> tuple[str, ...]:
    out = [_account(t)]
    while _comma(t):
        out.append(_account(t))
    return tuple(out)


def _privilege(t: _Tokens) -> str:
    """One privilege: keywords up to ``,``/ON/TO/FROM, an optional column list dropped."""
    words: list[str] = []
    while (w := t.word()) is not None and w not in (",", "ON", "TO", "FROM", "(", ")"):
        words.append(t.next().text.lower())
    if not words:
        raise _NoMatch("privilege expected")
    tok = t.peek()
    if tok is not None and tok.token_type is TokenType.L_PAREN:
        t.next()
        while (tok := t.next()).token_type is not TokenType.R_PAREN:
            if tok.token_type not in (TokenType.COMMA, TokenType.VAR, TokenType.IDENTIFIER):
                raise _NoMatch("column list")
    return " ".join(words)


def _level(t: _Tokens) -> str:
    """``*``, ``*.*``, ``db.*``, ``db.tbl`` or ``tbl`` after an optional object type."""
    if t.word() in _OBJECT_TYPES:
        t.next()
    parts = []
    for _ in range(2):
        tok = t.next()
        if tok.token_type is TokenType.STAR:
            parts.append("*")
        elif tok.token_type in (TokenType.IDENTIFIER, TokenType.VAR) or tok.text.isidentifier():
            parts.append(tok.text)
        else:
            raise _NoMatch("privilege level expected")
        dot = t.peek()
        if dot is None or dot.token_type is not TokenType.DOT:
            break
        t.next()
    return ".".join(parts)


def _grant(t: _Tokens, c: Common, grant: bool) -> list[m.Statement]:
    cls = m.Grant if grant else m.Revoke
    to = "TO" if grant else "FROM"
    if not grant:
        t.take("IF", "EXISTS")
    if t.take("PROXY"):
        t.need("ON")
        proxied = _account(t)
        t.need(to)
        who = _accounts(t)
        _grant_tail(t, grant)
        return [cls(**c, privileges=("proxy",), objects=(proxied,), grantees=who)]
    start = t.i
    try:
        privs = [_privilege(t)]
        while _comma(t):
            privs.append(_privilege(t))
        if t.take("ON"):
            objects = (_level(t),)
        elif not grant and privs[0] in ("all", "all privileges") and privs[1:] == ["grant option"]:
            objects = ("*.*",)
        else:
            raise _NoMatch("not a privilege list")
    except _NoMatch:  # GRANT role, ... TO / REVOKE role, ... FROM (as PostgreSQL's)
        t.i = start
        privs = list(_accounts(t))
        objects = ("role",)
    t.need(to)
    who = _accounts(t)
    _grant_tail(t, grant)
    return [cls(**c, privileges=tuple(privs), objects=objects, grantees=who)]


def _grant_tail(t: _Tokens, grant: bool) -> None:
    if grant:
        if not t.take("WITH", "GRANT", "OPTION"):
            t.take("WITH", "ADMIN", "OPTION")
        if t.take("AS"):
            _account(t)
            roles = t.take("WITH", "ROLE")
            if roles and not (t.take("DEFAULT") or t.take("NONE") or t.take("ALL")):
                _accounts(t)
    else:
        t.take("IGNORE", "UNKNOWN", "USER")


def _auth(t: _Tokens) -> None:
    """Skip ``IDENTIFIED [WITH plugin] [BY 'pw' | BY RANDOM PASSWORD | AS 'hash']``."""
    if t.take("WITH"):
        t.next()  # the plugin name, quoted or not
    if t.take("BY"):
        if not t.take("RANDOM", "PASSWORD"):
            _string(t)
    elif t.take("AS"):
        _string(t)
    t.take("RETAIN", "CURRENT", "PASSWORD")


def _user_spec(t: _Tokens) -> tuple[tuple[str, ...], set[str]]:
    """Accounts, each with optional auth clauses, then the option clauses' names."""
    names: list[str] = []
    options: set[str] = set()
    while True:
        names.append(_account(t))
        while t.take("IDENTIFIED") or t.take("AND", "IDENTIFIED"):
            options.add("password")
            _auth(t)
        if t.take("DISCARD", "OLD", "PASSWORD"):
            options.add("password")
        if not _comma(t):
            break
    while not t.done():
        head = t.word()
        if head not in _USER_OPTIONS:
            raise _NoMatch(f"user option {head!r}")
        options.add(_USER_OPTIONS[head])
        t.next()
        while not t.done() and t.word() not in _USER_OPTIONS:
            t.next()  # the clause's arguments (limits, TLS subjects, comments) are not kept
    return tuple(names), options


def _role_ddl(t: _Tokens, c: Common, verb: str) -> list[m.Statement]:
    op = verb.lower()
    if t.take("ROLE"):
        if op == "alter":
            raise _NoMatch("ALTER ROLE does not exist in MySQL")
        if not t.take("IF", "NOT", "EXISTS"):
            t.take("IF", "EXISTS")
        return [m.Role(**c, operation=op, names=_accounts(t))]
    t.need("USER")
    if op == "drop":
        t.take("IF", "EXISTS")
        return [m.Role(**c, operation="drop", names=_accounts(t))]
    if not t.take("IF", "NOT", "EXISTS"):
        t.take("IF", "EXISTS")
    names, options = _user_spec(t)
    return [m.Role(**c, operation=op, names=names, options=tuple(sorted(options)))]


def _set(t: _Tokens, c: Common) -> list[m.Statement]:
    if t.take("ROLE"):
        # Same shape as PostgreSQL's SET ROLE: a ``set`` named ``role``.
        if t.word() in ("NONE", "DEFAULT"):
            value = str(t.next().text).lower()
        elif t.take("ALL"):
            value = "all" + (" except " + ", ".join(_accounts(t)) if t.take("EXCEPT") else "")
        else:
            value = ", ".join(_accounts(t))
        return [m.Set(**c, name="role", value=value)]
    if t.take("DEFAULT", "ROLE"):
        if not (t.take("NONE") or t.take("ALL")):
            _accounts(t)
        t.need("TO")
        return [m.Role(**c, operation="alter", names=_accounts(t), options=("default role",))]
    t.need("PASSWORD")
    who = _account(t) if t.take("FOR") else "current_user"
    if not t.take("TO", "RANDOM"):
        t.need("=")
        _string(t)
    if t.take("REPLACE"):
        _string(t)
    t.take("RETAIN", "CURRENT", "PASSWORD")
    return [m.Role(**c, operation="alter", names=(who,), options=("password",))]


def _rename(t: _Tokens, c: Common) -> list[m.Statement]:
    t.need("USER")
    names = []
    while True:
        names.append(_account(t))
        t.need("TO")
        _account(t)
        if not _comma(t):
            break
    return [m.Role(**c, operation="alter", names=tuple(names), options=("rename",))]


PRIVILEGED_HEAD = re.compile(
    r"\A\s*(GRANT|REVOKE|(CREATE|ALTER|DROP)\s+(USER|ROLE)|SET\s+(ROLE|DEFAULT\s+ROLE|PASSWORD)"
    r"|RENAME\s+USER)\b",
    re.IGNORECASE,
)


def privileged(text: str, common: Common) -> list[m.Statement] | None:
    """The model for a privileged statement, or None when it is not one this knows."""
    rename = re.match(r"\s*RENAME\b", text, re.IGNORECASE)
    try:
        # The MySQL tokenizer reads everything after RENAME as one string: tokenize the rest.
        tokens = list(MySQL().tokenize(text[rename.end() :] if rename else text))
    except TokenError:
        return None
    t = _Tokens(tokens)
    try:
        if t.take("GRANT"):
            out = _grant(t, common, True)
        elif t.take("REVOKE"):
            out = _grant(t, common, False)
        elif t.word() in ("CREATE", "ALTER", "DROP") and t.word(1) in ("USER", "ROLE"):
            out = _role_ddl(t, common, t.next().text.upper())
        elif t.take("SET") and t.word() in ("ROLE", "DEFAULT", "PASSWORD"):
            out = _set(t, common)
        elif rename:
            out = _rename(t, common)
        else:
            return None
    except _NoMatch:
        return None
    return out if t.done() else None
