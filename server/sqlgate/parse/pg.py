"""PostgreSQL statements → model, built from pglast's AST (PostgreSQL's own grammar).

Why pglast builds the PostgreSQL model and sqlglot only cross-checks it: libpg_query *is*
the server's parser, so its tree is exact for everything PostgreSQL accepts — including
what sqlglot keeps as an opaque ``Command`` (CREATE FUNCTION, DO, ALTER TYPE ... ADD
VALUE, CREATE EXTENSION, REINDEX, RENAME CONSTRAINT, CALL ...). Building from sqlglot
would need a pglast fallback for all of those anyway, and two model builders for one
dialect would disagree in subtle ways. sqlglot (``crosscheck.py``) then parses each
statement independently; when both understand a statement but classify it differently,
the statement becomes ``unknown`` (fail closed).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any

from pglast import ast, enums
from pglast.stream import RawStream
from pglast.visitors import Continue, Visitor

from sqlgate import model as m
from sqlgate.parse import pgbody
from sqlgate.parse.pgconst import always_true
from sqlgate.parse.volatile import SERIAL_TYPES, is_volatile_name

Common = dict[str, Any]
_ON_DELETE = {
    "a": "no action",
    "r": "restrict",
    "c": "cascade",
    "n": "set null",
    "d": "set default",
}
_CONSTR = {
    enums.ConstrType.CONSTR_CHECK: "check",
    enums.ConstrType.CONSTR_UNIQUE: "unique",
    enums.ConstrType.CONSTR_PRIMARY: "primary_key",
    enums.ConstrType.CONSTR_EXCLUSION: "exclude",
}


def sql_text(node: Any) -> str:
    """Deparsed SQL of an expression or type node (normalised by PostgreSQL's rules)."""
    return str(_NodeStream()(node))


class _Ancestors(Visitor):
    """pglast's ``populate_ancestors`` walk without its per-call class and introspection.

    ``populate_ancestors`` builds a Visitor subclass and scans its methods with
    ``inspect.getmembers`` on every call — most of a small deparse's time. This drives
    the same ``Visitor.iterate`` generator and sets the same ``ancestors`` on each node.
    """

    def __call__(self, node: Any) -> Any:
        walk = self.iterate(node)
        try:
            ancestors, sub = walk.send(None)
            while True:
                sub.ancestors = ancestors
                ancestors, sub = walk.send(Continue)
        except StopIteration:
            return node


class _NodeStream(RawStream):
    """``RawStream`` for one node: ``RawStream.__call__`` with the faster ancestors walk."""

    def __call__(self, sql: Any, plpgsql: bool = False) -> str:
        if not isinstance(sql, ast.Node) or plpgsql:
            return str(super().__call__(sql, plpgsql))
        _Ancestors()(sql)
        if isinstance(sql, ast.RawStmt) and sql.stmt is None:
            return ""
        self.print_node(sql)
        return str(self.getvalue())


def type_text(tn: Any) -> str:
    """A column type as PostgreSQL prints it; plain types skip the (slow) deparser.

    The fast path covers a name with literal integer modifiers and no array bounds or
    %TYPE, and is checked against the deparser in tests; anything else is deparsed.
    """
    names: list[Any] = list(tn.names or ())
    simple = (
        not tn.arrayBounds
        and not tn.pct_type
        and not tn.setof
        and len(names) in (1, 2)
        and all(isinstance(n, ast.String) for n in names)
        and all(
            isinstance(m, ast.A_Const) and isinstance(m.val, ast.Integer) for m in tn.typmods or ()
        )
    )
    if not simple:
        return sql_text(tn)
    qual, name = (names[0].sval, names[1].sval) if len(names) == 2 else (None, names[0].sval)
    if qual is None and name in _PLAIN_TYPES and not tn.typmods:
        return str(name)
    base = _TYPE_NAMES.get(name) if qual == "pg_catalog" else None
    if base is None:
        return sql_text(tn)
    mods = ", ".join(str(m.val.ival) for m in tn.typmods or ())
    return f"{base}({mods})" if mods else base


# Unqualified built-in type names the deparser prints unchanged (no quoting needed).
_PLAIN_TYPES = frozenset(
    {"text", "uuid", "jsonb", "json", "timestamptz", "date", "bytea", "inet", "citext",
     "serial", "bigserial", "smallserial", "serial4", "serial8", "money", "xml", "tsvector"}
)  # fmt: skip

# pg_catalog names the parser produces for SQL-standard spellings, as the deparser prints them.
_TYPE_NAMES = {
    "int2": "smallint",
    "int4": "integer",
    "int8": "bigint",
    "float4": "real",
    "float8": "double precision",
    "bool": "boolean",
    "varchar": "varchar",
    "numeric": "numeric",
}


def rangevar(rv: Any) -> str:
    return f"{rv.schemaname}.{rv.relname}" if rv.schemaname else str(rv.relname)


def dotted(names: Any) -> str:
    """``a.b`` from a sequence of String nodes (or a single one)."""
    if isinstance(names, ast.String):
        return str(names.sval)
    if isinstance(names, (tuple, list)):
        return ".".join(dotted(n) for n in names)
    if isinstance(names, ast.TypeName):
        return dotted([n for n in names.names or () if getattr(n, "sval", "") != "pg_catalog"])
    if isinstance(names, ast.ObjectWithArgs):
        return dotted(names.objname)
    if isinstance(names, ast.RangeVar):
        return rangevar(names)
    return sql_text(names)


def _strs(items: Any) -> tuple[str, ...]:
    return tuple(str(i.sval) for i in items or ())


def _walk(node: Any) -> Iterator[Any]:
    if isinstance(node, (tuple, list)):
        for item in node:
            yield from _walk(item)
    elif isinstance(node, ast.Node):
        yield node
        for attr in node:
            yield from _walk(getattr(node, attr))


def volatile_expr(node: Any) -> bool:
    """True if the expression calls a function from the volatile list."""
    return any(
        isinstance(n, ast.FuncCall) and is_volatile_name(dotted(n.funcname)) for n in _walk(node)
    )


def _fk(c: Any, columns: tuple[str, ...]) -> m.ForeignKey:
    return m.ForeignKey(
        name=c.conname,
        columns=_strs(c.fk_attrs) or columns,
        ref_table=rangevar(c.pktable),
        ref_columns=_strs(c.pk_attrs),
        not_valid=bool(c.skip_validation),
        on_delete=_ON_DELETE.get(c.fk_del_action or "a"),
    )


def column_def(cd: Any) -> tuple[m.Column, m.ForeignKey | None]:
    type_name = type_text(cd.typeName) if cd.typeName else ""
    not_null = primary = unique = False
    default: str | None = None
    volatile = False
    fk = None
    for c in cd.constraints or ():
        t = c.contype
        if t == enums.ConstrType.CONSTR_NOTNULL:
            not_null = True
        elif t == enums.ConstrType.CONSTR_DEFAULT:
            default = sql_text(c.raw_expr)
            volatile = volatile_expr(c.raw_expr)
        elif t == enums.ConstrType.CONSTR_PRIMARY:
            primary = not_null = True
        elif t == enums.ConstrType.CONSTR_UNIQUE:
            unique = True
        elif t == enums.ConstrType.CONSTR_IDENTITY:
            not_null = True
            default, volatile = "identity", True
        elif t == enums.ConstrType.CONSTR_GENERATED:
            default = sql_text(c.raw_expr)
            volatile = True  # a stored generated column is computed for every row
        elif t == enums.ConstrType.CONSTR_FOREIGN:
            fk = _fk(c, (cd.colname,))
    if type_name.lower() in SERIAL_TYPES:
        not_null, volatile = True, True
        default = default or "nextval(...)"
    column = m.Column(
        name=cd.colname,
        type=type_name,
        not_null=not_null,
        default=default,
        default_volatile=volatile,
        primary_key=primary,
        unique=unique,
    )
    return column, fk


def _create_table(n: Any, c: Common) -> list[m.Statement]:
    columns, fks, constraints = [], [], []
    for el in n.tableElts or ():
        if isinstance(el, ast.ColumnDef):
            col, fk = column_def(el)
            columns.append(col)
            if fk:
                fks.append(fk)
            if col.primary_key or col.unique:
                kind = "primary_key" if col.primary_key else "unique"
                constraints.append(
                    m.TableConstraint(name=None, constraint_type=kind, columns=(col.name,))
                )
        elif isinstance(el, ast.Constraint):
            if el.contype == enums.ConstrType.CONSTR_FOREIGN:
                fks.append(_fk(el, ()))
            elif el.contype in _CONSTR:
                constraints.append(
                    m.TableConstraint(
                        name=el.conname, constraint_type=_CONSTR[el.contype], columns=_strs(el.keys)
                    )
                )
    return [
        m.CreateTable(
            **c,
            table=rangevar(n.relation),
            columns=tuple(columns),
            foreign_keys=tuple(fks),
            constraints=tuple(constraints),
            if_not_exists=bool(n.if_not_exists),
            temporary=n.relation.relpersistence == "t",
        )
    ]


def _create_table_as(n: Any, c: Common) -> list[m.Statement]:
    name = rangevar(n.into.rel)
    if n.objtype == enums.ObjectType.OBJECT_MATVIEW:
        return [m.CreateView(**c, name=name, materialized=True)]
    return [
        m.CreateTable(
            **c,
            table=name,
            as_select=True,
            if_not_exists=bool(n.if_not_exists),
            temporary=n.into.rel.relpersistence == "t",
        )
    ]


def _alter_table(n: Any, c: Common) -> list[m.Statement]:
    T = enums.AlterTableType
    table = rangevar(n.relation)
    if n.objtype != enums.ObjectType.OBJECT_TABLE:
        kind = str(n.objtype.name).removeprefix("OBJECT_").lower()
        return [m.AlterObject(**c, object_type=kind, name=table)]
    out: list[m.Statement] = []
    for i, cmd in enumerate(n.cmds):
        a = {**c, "table": table, "action": i}
        t = cmd.subtype
        if t == T.AT_AddColumn:
            col, fk = column_def(cmd.def_)
            out.append(
                m.AddColumn(**a, column=col, foreign_key=fk, if_not_exists=bool(cmd.missing_ok))
            )
        elif t == T.AT_DropColumn:
            cascade = cmd.behavior == enums.DropBehavior.DROP_CASCADE
            out.append(
                m.DropColumn(**a, column=cmd.name, if_exists=bool(cmd.missing_ok), cascade=cascade)
            )
        elif t == T.AT_AlterColumnType:
            using = sql_text(cmd.def_.raw_default) if cmd.def_.raw_default else None
            out.append(
                m.AlterColumnType(
                    **a, column=cmd.name, type=sql_text(cmd.def_.typeName), using=using
                )
            )
        elif t == T.AT_SetNotNull:
            out.append(m.SetNotNull(**a, column=cmd.name))
        elif t == T.AT_DropNotNull:
            out.append(m.DropNotNull(**a, column=cmd.name))
        elif t == T.AT_ColumnDefault and cmd.def_ is not None:
            out.append(
                m.SetDefault(
                    **a,
                    column=cmd.name,
                    default=sql_text(cmd.def_),
                    default_volatile=volatile_expr(cmd.def_),
                )
            )
        elif t == T.AT_ColumnDefault:
            out.append(m.DropDefault(**a, column=cmd.name))
        elif t == T.AT_AddConstraint:
            out.append(_add_constraint(cmd.def_, a))
        elif t == T.AT_DropConstraint:
            out.append(m.DropConstraint(**a, name=cmd.name, if_exists=bool(cmd.missing_ok)))
        elif t == T.AT_ValidateConstraint:
            out.append(m.ValidateConstraint(**a, name=cmd.name))
        else:
            conc = bool(getattr(cmd.def_, "concurrent", False))
            out.append(m.AlterTableOther(**a, subtype=str(t.name), concurrently=conc))
    return out


def _add_constraint(con: Any, a: Common) -> m.Statement:
    if con.contype == enums.ConstrType.CONSTR_FOREIGN:
        fk = _fk(con, ())
        return m.AddForeignKey(
            **a,
            name=fk.name,
            columns=fk.columns,
            ref_table=fk.ref_table,
            ref_columns=fk.ref_columns,
            not_valid=fk.not_valid,
            on_delete=fk.on_delete,
        )
    if con.contype not in _CONSTR:
        return m.AlterTableOther(**a, subtype=f"AT_AddConstraint:{con.contype.name}")
    columns = _strs(con.keys)
    if con.contype == enums.ConstrType.CONSTR_EXCLUSION:
        columns = tuple(sql_text(e[0]) for e in con.exclusions or ())
    return m.AddConstraint(
        **a,
        name=con.conname,
        constraint_type=_CONSTR[con.contype],
        columns=columns,
        not_valid=bool(con.skip_validation),
        using_index=con.indexname,
    )


def _index(n: Any, c: Common) -> list[m.Statement]:
    cols = tuple(p.name if p.name else sql_text(p.expr) for p in n.indexParams)
    return [
        m.CreateIndex(
            **c,
            name=n.idxname,
            table=rangevar(n.relation),
            columns=cols,
            unique=bool(n.unique),
            concurrently=bool(n.concurrent),
            if_not_exists=bool(n.if_not_exists),
            partial=n.whereClause is not None,
            only=not n.relation.inh,
        )
    ]


def _drop(n: Any, c: Common) -> list[m.Statement]:
    OT = enums.ObjectType
    names = tuple(dotted(o) for o in n.objects)
    cascade = n.behavior == enums.DropBehavior.DROP_CASCADE
    ie = bool(n.missing_ok)
    t = n.removeType
    if t == OT.OBJECT_TABLE:
        return [m.DropTable(**c, tables=names, if_exists=ie, cascade=cascade)]
    if t == OT.OBJECT_INDEX:
        return [m.DropIndex(**c, names=names, concurrently=bool(n.concurrent), if_exists=ie)]
    if t == OT.OBJECT_SCHEMA:
        return [m.DropSchema(**c, names=names, cascade=cascade, if_exists=ie)]
    if t in (OT.OBJECT_VIEW, OT.OBJECT_MATVIEW):
        mat = t == OT.OBJECT_MATVIEW
        return [m.DropView(**c, names=names, materialized=mat, if_exists=ie, cascade=cascade)]
    if t == OT.OBJECT_EXTENSION:
        return [m.DropExtension(**c, name=name, if_exists=ie) for name in names]
    kind = str(t.name).removeprefix("OBJECT_").lower()
    return [m.DropObject(**c, object_type=kind, names=names, if_exists=ie, cascade=cascade)]


def _rename(n: Any, c: Common) -> list[m.Statement]:
    OT = enums.ObjectType
    t = n.renameType
    if t == OT.OBJECT_TABLE:
        return [m.RenameTable(**c, table=rangevar(n.relation), new_name=n.newname)]
    if t == OT.OBJECT_COLUMN and n.relationType == OT.OBJECT_TABLE:
        return [
            m.RenameColumn(**c, table=rangevar(n.relation), column=n.subname, new_name=n.newname)
        ]
    if t == OT.OBJECT_TABCONSTRAINT:
        return [
            m.RenameConstraint(**c, table=rangevar(n.relation), name=n.subname, new_name=n.newname)
        ]
    name = rangevar(n.relation) if n.relation else dotted(n.object) if n.object else str(n.subname)
    kind = str(t.name).removeprefix("OBJECT_").lower()
    return [m.AlterObject(**c, object_type=kind, name=name, operation="rename")]


_DOMAIN_ACTIONS = {
    "C": "add_constraint", "X": "drop_constraint", "V": "validate_constraint",
    "T": "set_default", "N": "drop_not_null", "O": "set_not_null",
}  # fmt: skip


def _alter_domain(n: Any, c: Common) -> list[m.Statement]:
    action = _DOMAIN_ACTIONS.get(str(n.subtype), "alter")
    if action == "set_default" and n.def_ is None:
        action = "drop_default"
    not_valid = action == "add_constraint" and bool(getattr(n.def_, "skip_validation", False))
    return [m.AlterDomain(**c, name=dotted(n.typeName), action=action, not_valid=not_valid)]


_DOMAIN_CONSTR = {"CONSTR_CHECK": "check", "CONSTR_NOTNULL": "not_null", "CONSTR_NULL": "null"}


def _domain_constraints(n: Any) -> tuple[str, ...]:
    return tuple(
        _DOMAIN_CONSTR.get(k.contype.name, k.contype.name.lower()) for k in n.constraints or ()
    )


def _dml(n: Any, c: Common) -> list[m.Statement]:
    if isinstance(n, ast.InsertStmt):
        sel = n.selectStmt
        from_select = sel is not None and not getattr(sel, "valuesLists", None)
        return [m.Insert(**c, table=rangevar(n.relation), from_select=from_select)]
    cls = m.Update if isinstance(n, ast.UpdateStmt) else m.Delete
    # A constant-true WHERE (WHERE true, 1 = 1, NOT false ...) is no predicate at all.
    has_where = n.whereClause is not None and not always_true(n.whereClause)
    return [cls(**c, table=rangevar(n.relation), has_where=has_where)]


def _copy(n: Any, c: Common) -> list[m.Statement]:
    table = rangevar(n.relation) if n.relation else None
    direction = "from" if n.is_from else "to"
    return [
        m.Copy(
            **c,
            table=table,
            direction=direction,
            program=bool(n.is_program),
            opaque=bool(n.is_program),
            server_file=bool(n.filename) and not n.is_program,
        )
    ]


def _alter_system(n: Any, c: Common) -> list[m.Statement]:
    st = n.setstmt
    if st.kind == enums.VariableSetKind.VAR_RESET_ALL:
        return [m.AlterSystem(**c, name="all", value=None)]
    value = None
    if st.kind == enums.VariableSetKind.VAR_SET_VALUE:
        value = ", ".join(_arg_value(a) for a in st.args or ())
    return [m.AlterSystem(**c, name=str(st.name or "").lower(), value=value)]


def _role_options(options: Any) -> tuple[str, ...]:
    """Role options as ``name``, ``noname`` or ``name=value``; passwords are never copied."""
    out = []
    for o in options or ():
        arg = o.arg
        if o.defname == "password" or arg is None:
            out.append(str(o.defname))
        elif isinstance(arg, ast.Boolean):
            out.append(str(o.defname) if arg.boolval else f"no{o.defname}")
        elif isinstance(arg, ast.Integer):
            out.append(f"{o.defname}={arg.ival}")
        elif isinstance(arg, ast.String):
            out.append(f"{o.defname}={arg.sval}")
        else:
            out.append(f"{o.defname}=?")
    return tuple(out)


def _role_stmt(n: Any, c: Common) -> list[m.Statement]:
    """CREATE/ALTER/DROP ROLE|USER|GROUP and ALTER ROLE ... SET."""
    if isinstance(n, ast.CreateRoleStmt):
        opts = _role_options(n.options)
        return [m.Role(**c, operation="create", names=(str(n.role),), options=opts)]
    if isinstance(n, ast.DropRoleStmt):
        return [m.Role(**c, operation="drop", names=tuple(_role(r) for r in n.roles or ()))]
    if isinstance(n, ast.AlterRoleSetStmt):
        setting = str(n.setstmt.name or "").lower() if n.setstmt else ""
        name = _role(n.role) if n.role else "all"
        role = m.Role(**c, operation="alter", names=(name,), options=(f"set {setting}",))
        return [role, *(_set(n.setstmt, {**c, "scope": "role"}) if n.setstmt else [])]
    opts = _role_options(n.options)
    return [m.Role(**c, operation="alter", names=(_role(n.role),), options=opts)]


def _set(n: Any, c: Common) -> list[m.Statement]:
    K = enums.VariableSetKind
    if n.kind == K.VAR_RESET_ALL:
        return [m.Set(**c, name="all", value=None, local=bool(n.is_local))]
    if n.kind not in (K.VAR_SET_VALUE, K.VAR_SET_DEFAULT, K.VAR_RESET):
        # SET TRANSACTION / SET SESSION CHARACTERISTICS / SET ... FROM CURRENT: `name`
        # says which (transaction, session_characteristics, ...); value unknown.
        name = str(n.name or n.kind.name).lower()
        return [m.Set(**c, name=name, value="?", local=bool(n.is_local))]
    value = None
    if n.kind == K.VAR_SET_VALUE:
        value = ", ".join(_arg_value(a) for a in n.args or ())
    return [m.Set(**c, name=str(n.name or "").lower(), value=value, local=bool(n.is_local))]


def _alter_database_set(n: Any, c: Common) -> list[m.Statement]:
    """ALTER DATABASE ... SET: the default of every later session on that database."""
    return _set(n.setstmt, {**c, "scope": "database"})


def _arg_value(node: Any) -> str:
    if isinstance(node, ast.A_Const) and node.val is not None:
        v = node.val
        return str(
            getattr(v, "sval", None) or getattr(v, "ival", None) or getattr(v, "fval", None) or "0"
        )
    return sql_text(node)


def _transaction(n: Any, c: Common) -> list[m.Statement]:
    K = enums.TransactionStmtKind
    action = {
        K.TRANS_STMT_BEGIN: "begin",
        K.TRANS_STMT_START: "begin",
        K.TRANS_STMT_COMMIT: "commit",
        K.TRANS_STMT_ROLLBACK: "rollback",
        K.TRANS_STMT_SAVEPOINT: "savepoint",
        K.TRANS_STMT_RELEASE: "release",
        K.TRANS_STMT_ROLLBACK_TO: "rollback_to",
    }.get(n.kind)
    if action is None:
        return [
            m.Unknown(
                **c, reason=f"transaction command {n.kind.name} is not supported in migrations"
            )
        ]
    return [m.Transaction(**c, action=action)]


def _function(n: Any, c: Common) -> list[m.Statement]:
    """CREATE FUNCTION, and a ``set`` statement (scope ``function``) for each of its SET
    clauses. The body is parsed only where the set calls the function (``inline``)."""
    language, definer = "sql" if n.sql_body is not None else None, False
    settings: list[m.Statement] = []
    for opt in n.options or ():
        if opt.defname == "language":
            language = str(opt.arg.sval).lower()
        elif opt.defname == "security":
            definer = bool(getattr(opt.arg, "boolval", False))
        elif opt.defname == "set" and isinstance(opt.arg, ast.VariableSetStmt):
            settings.extend(_set(opt.arg, {**c, "scope": "function"}))
    name = dotted(n.funcname)
    return [
        m.CreateFunction(
            **c,
            name=name,
            language=language,
            security_definer=definer,
            or_replace=bool(n.replace),
            procedure=bool(n.is_procedure),
        ),
        *settings,
    ]


def _do(n: Any, c: Common) -> list[m.Statement]:
    return pgbody.do_block(n, c, build)


def _grant(n: Any, c: Common) -> list[m.Statement]:
    privs = tuple(str(p.priv_name) for p in n.privileges) if n.privileges else ("all",)
    objects = tuple(dotted(o) for o in n.objects or ())
    grantees = tuple(_role(g) for g in n.grantees or ())
    cls = m.Grant if n.is_grant else m.Revoke
    return [cls(**c, privileges=privs, objects=objects, grantees=grantees)]


def _grant_role(n: Any, c: Common) -> list[m.Statement]:
    privs = tuple(str(r.priv_name) for r in n.granted_roles)
    grantees = tuple(_role(g) for g in n.grantee_roles)
    cls = m.Grant if n.is_grant else m.Revoke
    return [cls(**c, privileges=privs, objects=("role",), grantees=grantees)]


def _role(r: Any) -> str:
    return str(r.rolename) if r.rolename else str(r.roletype.name).removeprefix("ROLESPEC_").lower()


def _reindex(n: Any, c: Common) -> list[m.Statement]:
    target = str(n.kind.name).removeprefix("REINDEX_OBJECT_").lower()
    name = rangevar(n.relation) if n.relation else str(n.name or "")
    conc = any(p.defname == "concurrently" for p in n.params or ())
    return [m.Reindex(**c, target=target, name=name, concurrently=conc)]


def _comment(n: Any, c: Common) -> list[m.Statement]:
    return [m.Comment(**c, object_type=str(n.objtype.name).removeprefix("OBJECT_").lower())]


_LOCK_MODES = {
    1: "ACCESS SHARE", 2: "ROW SHARE", 3: "ROW EXCLUSIVE", 4: "SHARE UPDATE EXCLUSIVE",
    5: "SHARE", 6: "SHARE ROW EXCLUSIVE", 7: "EXCLUSIVE", 8: "ACCESS EXCLUSIVE",
}  # fmt: skip


def _lock_table(n: Any, c: Common) -> list[m.Statement]:
    tables = tuple(rangevar(r) for r in n.relations or ())
    mode = _LOCK_MODES.get(int(n.mode or 8), "ACCESS EXCLUSIVE")
    return [m.LockTable(**c, tables=tables, mode=mode, nowait=bool(n.nowait))]


def _vacuum(n: Any, c: Common) -> list[m.Statement]:
    tables = tuple(rangevar(r.relation) for r in n.rels or () if r.relation is not None)
    options = {str(o.defname).lower() for o in n.options or ()}
    if not n.is_vacuumcmd:
        return [m.Analyze(**c, tables=tables)]
    return [m.Vacuum(**c, tables=tables, full="full" in options, analyze="analyze" in options)]


def _default_privileges(n: Any, c: Common) -> list[m.Statement]:
    g = n.action
    opts = {str(o.defname): tuple(dotted(a) for a in o.arg or ()) for o in n.options or ()}
    return [
        m.AlterDefaultPrivileges(
            **c,
            is_grant=bool(g.is_grant),
            privileges=tuple(str(p.priv_name) for p in g.privileges) if g.privileges else ("all",),
            object_type=str(g.objtype.name).removeprefix("OBJECT_").lower(),
            grantees=tuple(_role(r) for r in g.grantees or ()),
            schemas=opts.get("schemas", ()),
            roles=opts.get("roles", ()),
        )
    ]


def _alter_generic(
    kind: str, name_of: Callable[[Any], str]
) -> Callable[[Any, Common], list[m.Statement]]:
    def build(n: Any, c: Common) -> list[m.Statement]:
        return [m.AlterObject(**c, object_type=kind, name=name_of(n))]

    return build


def _obj_type(n: Any) -> str:
    return str(n.objectType.name).removeprefix("OBJECT_").lower()


_BUILDERS: dict[type, Callable[[Any, Common], list[m.Statement]]] = {
    ast.CreateStmt: _create_table,
    ast.CreateTableAsStmt: _create_table_as,
    ast.AlterTableStmt: _alter_table,
    ast.IndexStmt: _index,
    ast.DropStmt: _drop,
    ast.RenameStmt: _rename,
    ast.InsertStmt: _dml,
    ast.UpdateStmt: _dml,
    ast.DeleteStmt: _dml,
    ast.CopyStmt: _copy,
    ast.AlterSystemStmt: _alter_system,
    ast.CreateRoleStmt: _role_stmt,
    ast.AlterRoleStmt: _role_stmt,
    ast.AlterRoleSetStmt: _role_stmt,
    ast.DropRoleStmt: _role_stmt,
    ast.VariableSetStmt: _set,
    ast.TransactionStmt: _transaction,
    ast.CreateFunctionStmt: _function,
    ast.DoStmt: _do,
    ast.GrantStmt: _grant,
    ast.GrantRoleStmt: _grant_role,
    ast.ReindexStmt: _reindex,
    ast.CommentStmt: _comment,
    ast.SelectStmt: lambda n, c: [m.Select(**c)],
    ast.TruncateStmt: lambda n, c: [
        m.Truncate(
            **c,
            tables=tuple(rangevar(r) for r in n.relations),
            cascade=n.behavior == enums.DropBehavior.DROP_CASCADE,
        )
    ],
    ast.CallStmt: lambda n, c: [m.Call(**{**c, "opaque": True}, name=dotted(n.funccall.funcname))],
    ast.CreateSchemaStmt: lambda n, c: [
        m.CreateSchema(
            **c, name=str(n.schemaname or _role(n.authrole)), if_not_exists=bool(n.if_not_exists)
        )
    ],
    ast.DropdbStmt: lambda n, c: [
        m.DropDatabase(**c, name=str(n.dbname), if_exists=bool(n.missing_ok))
    ],
    ast.ViewStmt: lambda n, c: [
        m.CreateView(**c, name=rangevar(n.view), or_replace=bool(n.replace))
    ],
    ast.CreateExtensionStmt: lambda n, c: [
        m.CreateExtension(**c, name=str(n.extname), if_not_exists=bool(n.if_not_exists))
    ],
    ast.AlterEnumStmt: lambda n, c: (
        [m.AlterTypeAddValue(**c, type=dotted(n.typeName), value=str(n.newVal))]
        if not n.oldVal
        else [m.AlterObject(**c, object_type="type", name=dotted(n.typeName))]
    ),
    ast.CreateSeqStmt: lambda n, c: [m.CreateSequence(**c, name=rangevar(n.sequence))],
    ast.CreateEnumStmt: lambda n, c: [m.CreateType(**c, name=dotted(n.typeName), type_kind="enum")],
    ast.CompositeTypeStmt: lambda n, c: [
        m.CreateType(**c, name=rangevar(n.typevar), type_kind="composite")
    ],
    ast.CreateRangeStmt: lambda n, c: [
        m.CreateType(**c, name=dotted(n.typeName), type_kind="range")
    ],
    ast.CreateDomainStmt: lambda n, c: [
        m.CreateType(
            **c,
            name=dotted(n.domainname),
            type_kind="domain",
            constraints=_domain_constraints(n),
        )
    ],
    ast.AlterDomainStmt: _alter_domain,
    ast.CreateTrigStmt: lambda n, c: [
        m.CreateTrigger(
            **c,
            name=str(n.trigname),
            table=rangevar(n.relation),
            functions=(dotted(n.funcname).lower(),),
        )
    ],
    ast.AlterDatabaseSetStmt: _alter_database_set,
    ast.LockStmt: _lock_table,
    ast.VacuumStmt: _vacuum,
    ast.ClusterStmt: lambda n, c: [
        m.Cluster(
            **c,
            table=rangevar(n.relation) if n.relation else None,
            index_name=str(n.indexname) if n.indexname else None,
        )
    ],
    ast.RefreshMatViewStmt: lambda n, c: [
        m.RefreshMaterializedView(
            **c,
            table=rangevar(n.relation),
            concurrently=bool(n.concurrent),
            with_data=not n.skipData,
        )
    ],
    ast.SecLabelStmt: lambda n, c: [
        m.SecurityLabel(
            **c,
            object_type=str(n.objtype.name).removeprefix("OBJECT_").lower(),
            provider=str(n.provider) if n.provider else None,
        )
    ],
    ast.AlterDefaultPrivilegesStmt: _default_privileges,
    ast.AlterSeqStmt: _alter_generic("sequence", lambda n: rangevar(n.sequence)),
    ast.AlterFunctionStmt: _alter_generic("function", lambda n: dotted(n.func)),
    ast.AlterOwnerStmt: lambda n, c: [
        m.AlterObject(
            **c,
            operation="owner",
            object_type=_obj_type(n),
            name=rangevar(n.relation) if n.relation else dotted(n.object),
        )
    ],
    ast.AlterObjectSchemaStmt: lambda n, c: [
        m.AlterObject(
            **c,
            operation="set_schema",
            object_type=_obj_type(n),
            name=rangevar(n.relation) if n.relation else dotted(n.object),
        )
    ],
}


# Statement types whose nested expressions do not run when the statement runs (a function
# body runs when called, a DO body is walked by pgbody) or that are handled by their builder.
_NOT_WALKED = (ast.CreateFunctionStmt, ast.DoStmt, ast.CreateTrigStmt)


def build(node: Any, common: Common) -> list[m.Statement]:
    """Model statements for one pglast statement node; ``unknown`` for unmodelled types.

    After the statement's own model come the data-modifying statements nested in it
    (``WITH d AS (DELETE ...)``, ``COPY (DELETE ... RETURNING ...)``: ``via`` = "cte") and
    a ``set`` for each ``set_config()`` call; the first model statement lists the
    functions the statement calls (``functions``), which ``sqlgate.parse.inline`` and
    the privileged-function rule read.
    """
    builder = _BUILDERS.get(type(node))
    if builder is None:
        name = type(node).__name__
        return [
            m.Unknown(
                **common, reason=f"PostgreSQL statement type {name} is not modelled by sqlgate"
            )
        ]
    out = builder(node, common)
    if isinstance(node, _NOT_WALKED) or not out:
        return out
    functions: list[str] = []
    extra: list[m.Statement] = []
    for sub in _subnodes(node):
        if isinstance(sub, ast.FuncCall):
            fname = dotted(sub.funcname).lower()
            functions.append(fname)
            if fname.rsplit(".", 1)[-1] == "set_config":
                extra.append(_set_config(sub, common))
        elif sub is not node and isinstance(sub, (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt)):
            extra.extend(_dml(sub, {**common, "via": "cte"}))
    if functions:
        out[0] = dataclasses.replace(out[0], functions=tuple(dict.fromkeys(functions)))
    return [*out, *extra]


_NODE_SLOTS: dict[type, tuple[str, ...]] = {}


def _node_slots(cls: type) -> tuple[str, ...]:
    """The attributes of a pglast node class that can hold nodes (pointers and lists)."""
    slots = _NODE_SLOTS.get(cls)
    if slots is None:
        info: dict[str, Any] = getattr(cls, "__slots__", {})
        slots = _NODE_SLOTS[cls] = tuple(
            name for name, t in info.items() if str(getattr(t, "c_type", "*")).endswith("*")
        )
    return slots


# Node types that never contain a function call or a statement: not descended into.
_LEAVES = (
    ast.String, ast.Integer, ast.Float, ast.Boolean, ast.BitString, ast.A_Const,
    ast.ColumnRef, ast.TypeName, ast.RangeVar, ast.ParamRef, ast.A_Star,
)  # fmt: skip
_DML = (ast.InsertStmt, ast.UpdateStmt, ast.DeleteStmt)


def _subnodes(root: Any) -> Iterator[Any]:
    """The function calls and DML statements under ``root`` (itself included), in order.

    A walk with the scalar attributes and leaf nodes skipped and no generator recursion:
    it runs for every statement of every review, and the generic walk tripled the parse
    time of the corpus.
    """
    stack: list[Any] = [root]
    pop, extend = stack.pop, stack.extend
    while stack:
        item = pop()
        if isinstance(item, (tuple, list)):
            extend(reversed(item))
        elif isinstance(item, ast.Node) and not isinstance(item, _LEAVES):
            if isinstance(item, (ast.FuncCall, *_DML)):
                yield item
            for name in reversed(_node_slots(type(item))):
                child = getattr(item, name)
                if child is not None:
                    stack.append(child)


def _set_config(call: Any, c: Common) -> m.Statement:
    """``set_config(name, value, is_local)`` is SET [LOCAL]; a non-constant part is ``?``."""
    args = list(call.args or ())
    consts = [
        str(a.val.sval) if isinstance(a, ast.A_Const) and isinstance(a.val, ast.String) else None
        for a in args
    ]
    name = (consts[0] or "?").lower() if consts else "?"
    value = consts[1] if len(consts) > 1 and consts[1] is not None else "?"
    local_arg = args[2] if len(args) > 2 else None
    local = (
        isinstance(local_arg, ast.A_Const)
        and isinstance(local_arg.val, ast.Boolean)
        and bool(local_arg.val.boolval)
    )
    return m.Set(**{**c, "via": "set_config"}, name=name, value=value, local=local)
