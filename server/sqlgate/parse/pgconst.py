"""Is a WHERE clause always true? Constant folding over pglast expression trees.

Why: ``DELETE FROM t WHERE true`` (or ``WHERE 1 = 1``, ``WHERE 'a' = 'a'``,
``WHERE NOT false``, ``WHERE x IS NOT NULL OR 1 < 2`` ...) deletes every row exactly like
a DELETE without WHERE, so the model must say it has no predicate. Folding is generic —
a small three-valued evaluator over constants, casts, comparison and arithmetic
operators, boolean connectives, NULL tests, COALESCE/NULLIF, CASE and constant
subqueries — not a list of spellings. ``always_true`` answers True only when the clause
provably selects every row; anything it cannot evaluate is a real predicate (None).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from pglast import ast, enums

# A folded value: Python bool/int/Decimal/str, None for SQL NULL; _UNKNOWN when not constant.
_UNKNOWN = object()
_MAX_DEPTH = 200

_CMP: dict[str, Callable[[Any, Any], Any]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "!=": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_ARITH: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "||": lambda a, b: f"{a}{b}",
}
_TRUE_TEXT = {"t", "true", "y", "yes", "on", "1"}
_FALSE_TEXT = {"f", "false", "n", "no", "off", "0"}


def always_true(where: Any) -> bool:
    """True if the WHERE clause selects every row (a constant true predicate)."""
    if where is None:
        return True
    try:
        return _truth(where, 0) is True
    except RecursionError:
        return False


def _truth(node: Any, depth: int) -> bool | None:
    """True / False when the predicate is constant, else None (depends on the row)."""
    if depth > _MAX_DEPTH:
        return None
    # Tautologies on a column: `x IS NOT DISTINCT FROM x` holds for every row.
    if (
        isinstance(node, ast.A_Expr)
        and node.kind == enums.A_Expr_Kind.AEXPR_NOT_DISTINCT
        and _same_ref(node.lexpr, node.rexpr)
    ):
        return True
    if isinstance(node, ast.BoolExpr):
        parts = [_truth(a, depth + 1) for a in node.args or ()]
        if node.boolop == enums.BoolExprType.OR_EXPR:
            return True if True in parts else (False if all(p is False for p in parts) else None)
        if node.boolop == enums.BoolExprType.AND_EXPR:
            return False if False in parts else (True if all(p is True for p in parts) else None)
        return None if parts[0] is None else not parts[0]
    value = _value(node, depth + 1)
    if value is _UNKNOWN or value is None:
        return None
    return _as_bool(value)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        v = value.strip().lower()
        return True if v in _TRUE_TEXT else False if v in _FALSE_TEXT else None
    if isinstance(value, (int, Decimal)):
        return value != 0
    return None


def _same_ref(a: Any, b: Any) -> bool:
    return (
        isinstance(a, ast.ColumnRef)
        and isinstance(b, ast.ColumnRef)
        and [getattr(f, "sval", "*") for f in a.fields or ()]
        == [getattr(f, "sval", "*") for f in b.fields or ()]
    )


def _value(node: Any, depth: int) -> Any:
    """The constant value of an expression, or _UNKNOWN."""
    if depth > _MAX_DEPTH:
        return _UNKNOWN
    if isinstance(node, ast.A_Const):
        return _const(node)
    if isinstance(node, ast.TypeCast):
        return _cast(_value(node.arg, depth + 1), node.typeName)
    if isinstance(node, ast.BoolExpr):
        t = _truth(node, depth + 1)
        return _UNKNOWN if t is None else t
    if isinstance(node, ast.A_Expr):
        return _a_expr(node, depth + 1)
    if isinstance(node, ast.NullTest):
        v = _value(node.arg, depth + 1)
        if v is _UNKNOWN:
            return _UNKNOWN
        is_null = v is None
        return is_null if node.nulltesttype == enums.NullTestType.IS_NULL else not is_null
    if isinstance(node, ast.BooleanTest):
        v = _value(node.arg, depth + 1)
        if v is _UNKNOWN:
            return _UNKNOWN
        b = None if v is None else _as_bool(v)
        T = enums.BoolTestType
        return {
            T.IS_TRUE: b is True,
            T.IS_NOT_TRUE: b is not True,
            T.IS_FALSE: b is False,
            T.IS_NOT_FALSE: b is not False,
            T.IS_UNKNOWN: b is None,
            T.IS_NOT_UNKNOWN: b is not None,
        }.get(node.booltesttype or T.IS_TRUE, _UNKNOWN)
    if isinstance(node, ast.CoalesceExpr):
        for a in node.args or ():
            v = _value(a, depth + 1)
            if v is _UNKNOWN:
                return _UNKNOWN
            if v is not None:
                return v
        return None
    if isinstance(node, ast.CaseExpr) and node.arg is None:
        for w in node.args or ():
            t = _truth(w.expr, depth + 1)
            if t is None:
                return _UNKNOWN
            if t:
                return _value(w.result, depth + 1)
        return None if node.defresult is None else _value(node.defresult, depth + 1)
    if isinstance(node, ast.SubLink):
        return _sublink(node, depth + 1)
    return _UNKNOWN


def _const(node: Any) -> Any:
    if node.isnull:
        return None
    v = node.val
    if isinstance(v, ast.Boolean):
        return bool(v.boolval)
    if isinstance(v, ast.Integer):
        return int(v.ival or 0)
    if isinstance(v, ast.Float):
        try:
            return Decimal(str(v.fval))
        except InvalidOperation:
            return _UNKNOWN
    if isinstance(v, ast.String):
        return str(v.sval)
    return _UNKNOWN


def _cast(value: Any, type_name: Any) -> Any:
    if value is _UNKNOWN or value is None:
        return value
    names: tuple[Any, ...] = tuple(type_name.names or ()) if type_name else ()
    name = str(getattr(names[-1], "sval", "")).lower() if names else ""
    if name in ("bool", "boolean"):
        b = _as_bool(value)
        return _UNKNOWN if b is None else b
    if name in ("int2", "int4", "int8", "integer", "smallint", "bigint", "numeric", "float8"):
        try:
            return Decimal(str(value)) if not isinstance(value, bool) else _UNKNOWN
        except InvalidOperation:
            return _UNKNOWN
    if name in ("text", "varchar", "bpchar", "name"):
        return str(value).lower() if isinstance(value, bool) else str(value)
    return _UNKNOWN


def _a_expr(node: Any, depth: int) -> Any:
    K = enums.A_Expr_Kind
    ops: tuple[Any, ...] = tuple(node.name or ())
    op = str(getattr(ops[-1], "sval", "")) if ops else ""
    if node.kind in (K.AEXPR_DISTINCT, K.AEXPR_NOT_DISTINCT):
        a, b = _value(node.lexpr, depth), _value(node.rexpr, depth)
        if a is _UNKNOWN or b is _UNKNOWN:
            return _UNKNOWN
        same = _compare("=", a, b) if a is not None and b is not None else a is b
        if same is _UNKNOWN:
            return _UNKNOWN
        return bool(same) if node.kind == K.AEXPR_NOT_DISTINCT else not same
    if node.kind == K.AEXPR_IN:
        a = _value(node.lexpr, depth)
        items = [_value(x, depth) for x in node.rexpr or ()]
        if a is _UNKNOWN or _UNKNOWN in items:
            return _UNKNOWN
        found = any(_compare("=", a, x) is True for x in items)
        return found if op == "=" else not found
    if node.kind in (K.AEXPR_BETWEEN, K.AEXPR_NOT_BETWEEN):
        a = _value(node.lexpr, depth)
        lo, hi = (_value(x, depth) for x in node.rexpr)
        inside = _compare(">=", a, lo), _compare("<=", a, hi)
        if _UNKNOWN in inside or None in inside:
            return _UNKNOWN
        return all(inside) if node.kind == K.AEXPR_BETWEEN else not all(inside)
    if node.kind != K.AEXPR_OP:
        return _UNKNOWN
    if node.lexpr is None:  # prefix operator: -1, +1, NOT is a BoolExpr
        v = _value(node.rexpr, depth)
        if op == "-" and isinstance(v, (int, Decimal)) and not isinstance(v, bool):
            return -v
        return v if op == "+" else _UNKNOWN
    a, b = _value(node.lexpr, depth), _value(node.rexpr, depth)
    if op in _CMP:
        if _same_ref(node.lexpr, node.rexpr) and op in ("=", "<=", ">="):
            # x = x excludes only rows where x is null: it is never a real filter, and on
            # a NOT NULL column it is every row. Treated as no predicate (fail closed).
            return True
        return _compare(op, a, b)
    if op in _ARITH:
        if a is _UNKNOWN or b is _UNKNOWN:
            return _UNKNOWN
        if a is None or b is None:
            return None
        try:
            return _ARITH[op](_num(a), _num(b)) if op != "||" else _ARITH[op](a, b)
        except (TypeError, InvalidOperation):
            return _UNKNOWN
    return _UNKNOWN


def _num(v: Any) -> Any:
    if isinstance(v, bool):
        raise TypeError("boolean in arithmetic")
    if isinstance(v, str):
        return Decimal(v.strip())
    return Decimal(v) if isinstance(v, int) else v


def _compare(op: str, a: Any, b: Any) -> Any:
    if a is _UNKNOWN or b is _UNKNOWN:
        return _UNKNOWN
    if a is None or b is None:
        return None
    if isinstance(a, bool) or isinstance(b, bool):
        ab, bb = _as_bool(a), _as_bool(b)
        if ab is None or bb is None:
            return _UNKNOWN
        a, b = ab, bb
    elif isinstance(a, str) and isinstance(b, str):
        pass
    else:
        try:
            a, b = _num(a), _num(b)
        except (TypeError, InvalidOperation):
            return _UNKNOWN
    try:
        return bool(_CMP[op](a, b))
    except TypeError:
        return _UNKNOWN


def _sublink(node: Any, depth: int) -> Any:
    """EXISTS (SELECT ...) / (SELECT const) with no FROM and no WHERE is a constant."""
    sel = node.subselect
    if not isinstance(sel, ast.SelectStmt) or sel.fromClause or sel.valuesLists:
        return _UNKNOWN
    if sel.whereClause is not None or sel.havingClause is not None:
        return _UNKNOWN
    if sel.op != enums.SetOperation.SETOP_NONE:
        return _UNKNOWN
    if sel.limitCount is not None or sel.limitOffset is not None:
        return _UNKNOWN
    T = enums.SubLinkType
    if node.subLinkType == T.EXISTS_SUBLINK:
        return True
    targets: tuple[Any, ...] = tuple(sel.targetList or ())
    if node.subLinkType == T.EXPR_SUBLINK and len(targets) == 1:
        return _value(targets[0].val, depth + 1)
    return _UNKNOWN
