"""MySQL statements → model, built from sqlglot's AST (``read="mysql"``).

sqlglot is the only MySQL grammar available here, so what it keeps as an opaque
``Command`` (or fails to parse) becomes ``unknown`` with its reason: fail closed. MySQL
keeps identifier case. Lock facts are PostgreSQL modes and stay null for MySQL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot import exp

from sqlgate import model as m
from sqlgate.parse import mysql_online as online
from sqlgate.parse import mysql_privileged as privileged
from sqlgate.parse.volatile import is_volatile_name

Common = dict[str, Any]


def _name(node: Any) -> str:
    if isinstance(node, exp.Table):
        parts = [p.name for p in (node.args.get("db"), node.this) if p is not None]
        return ".".join(parts)
    if isinstance(node, exp.Schema):
        return _name(node.this)
    if isinstance(node, exp.Ordered):
        return _name(node.this)
    if isinstance(node, exp.Column):
        return str(node.name)
    if isinstance(node, (exp.Identifier, exp.Var)):
        return str(node.name)
    return str(node.sql(dialect="mysql")) if isinstance(node, exp.Expression) else str(node)


def _drop_names(e: exp.Expression) -> tuple[str, ...]:
    """Names a DROP acts on (sqlglot keeps them in ``tables``, whatever the object)."""
    items = e.args.get("tables") or e.expressions or [e.this]
    return tuple(_name(t) for t in items if t is not None)


def _volatile(node: exp.Expression | None) -> bool:
    if node is None:
        return False
    for f in node.find_all(exp.Func):
        name = f.sql_name() if not isinstance(f, exp.Anonymous) else str(f.name)
        if is_volatile_name(name):
            return True
    return False


def column_def(cd: exp.ColumnDef) -> m.Column:
    not_null = primary = unique = volatile = False
    default = None
    for cc in cd.args.get("constraints") or ():
        k = cc.args.get("kind")
        if isinstance(k, exp.NotNullColumnConstraint):
            not_null = not k.args.get("allow_null")
        elif isinstance(k, exp.PrimaryKeyColumnConstraint):
            primary = not_null = True
        elif isinstance(k, exp.UniqueColumnConstraint):
            unique = True
        elif isinstance(k, exp.DefaultColumnConstraint):
            default = k.this.sql(dialect="mysql")
            volatile = _volatile(k.this)
        elif isinstance(k, exp.AutoIncrementColumnConstraint):
            default, volatile = "auto_increment", True
    kind = cd.args.get("kind")
    return m.Column(
        name=cd.name,
        type=kind.sql(dialect="mysql") if kind is not None else "",
        not_null=not_null,
        default=default,
        default_volatile=volatile,
        primary_key=primary,
        unique=unique,
    )


def _fk(fk: exp.ForeignKey, name: str | None) -> m.ForeignKey:
    ref = fk.args.get("reference")
    schema = ref.this if ref is not None else None
    on_delete = fk.args.get("delete")
    for opt in (ref.args.get("options") or ()) if ref is not None else ():
        if str(opt).upper().startswith("ON DELETE "):
            on_delete = str(opt)[len("ON DELETE ") :]
    return m.ForeignKey(
        name=name,
        columns=tuple(_name(c) for c in fk.expressions),
        ref_table=_name(schema) if schema is not None else "",
        ref_columns=tuple(
            _name(c) for c in (schema.expressions if isinstance(schema, exp.Schema) else ())
        ),
        on_delete=str(on_delete).lower() if on_delete else None,
    )


def _constraint(
    node: exp.Expression,
) -> tuple[str | None, str | None, tuple[str, ...], m.ForeignKey | None]:
    """(name, constraint_type, columns, fk) of a table-level constraint node."""
    name = None
    if isinstance(node, exp.Constraint):
        name = node.name
        inner = node.expressions[0] if node.expressions else node
        node = inner
    if isinstance(node, exp.ForeignKey):
        return name, None, (), _fk(node, name)
    if isinstance(node, exp.PrimaryKey):
        return name, "primary_key", tuple(_name(c) for c in node.expressions), None
    if isinstance(node, exp.UniqueColumnConstraint):
        schema = node.this
        cols = tuple(_name(c) for c in schema.expressions) if isinstance(schema, exp.Schema) else ()
        own = schema.this.name if isinstance(schema, exp.Schema) and schema.this else None
        return name or own, "unique", cols, None
    if isinstance(node, exp.IndexColumnConstraint):
        return node.name or name, "index", tuple(_name(c) for c in node.expressions), None
    if isinstance(node, exp.CheckColumnConstraint):
        return name, "check", (), None
    return name, None, (), None


def _create(e: exp.Create, c: Common) -> list[m.Statement]:
    kind = str(e.args.get("kind") or "").upper()
    ine = bool(e.args.get("exists"))
    if kind == "TABLE":
        schema = e.this
        table = _name(schema)
        columns, fks, constraints = [], [], []
        for el in schema.expressions if isinstance(schema, exp.Schema) else ():
            if isinstance(el, exp.ColumnDef):
                col = column_def(el)
                columns.append(col)
                if col.primary_key or col.unique:
                    t = "primary_key" if col.primary_key else "unique"
                    constraints.append(
                        m.TableConstraint(name=None, constraint_type=t, columns=(col.name,))
                    )
                continue
            name, ctype, cols, fk = _constraint(el)
            if fk is not None:
                fks.append(fk)
            elif ctype is not None:
                constraints.append(
                    m.TableConstraint(name=name, constraint_type=ctype, columns=cols)
                )
        temporary = any(
            isinstance(p, exp.TemporaryProperty) for p in e.find_all(exp.TemporaryProperty)
        )
        return [
            m.CreateTable(
                **c,
                table=table,
                columns=tuple(columns),
                foreign_keys=tuple(fks),
                constraints=tuple(constraints),
                if_not_exists=ine,
                temporary=temporary,
                as_select=e.expression is not None,
            )
        ]
    if kind == "INDEX":
        idx = e.this
        params = idx.args.get("params")
        cols = tuple(_name(col) for col in (params.args.get("columns") or ())) if params else ()
        return [
            m.CreateIndex(
                **c,
                name=idx.name or None,
                table=_name(idx.args.get("table")),
                columns=cols,
                unique=bool(e.args.get("unique")),
                if_not_exists=ine,
                partial=bool(params and params.args.get("where")),
            )
        ]
    if kind == "VIEW":
        return [m.CreateView(**c, name=_name(e.this), or_replace=bool(e.args.get("replace")))]
    if kind in ("SCHEMA", "DATABASE"):
        return [m.CreateSchema(**c, name=_name(e.this), if_not_exists=ine)]
    if kind in ("FUNCTION", "PROCEDURE"):
        name = _name(e.this.this if isinstance(e.this, exp.UserDefinedFunction) else e.this)
        return [
            m.CreateFunction(
                **c,
                name=name,
                language="sql",
                procedure=kind == "PROCEDURE",
                or_replace=bool(e.args.get("replace")),
            )
        ]
    return [m.Unknown(**c, reason=f"MySQL CREATE {kind or '?'} is not modelled by sqlgate")]


def _drop(e: exp.Drop, c: Common) -> list[m.Statement]:
    kind = str(e.args.get("kind") or "").upper()
    names = _drop_names(e)
    ie, cascade = bool(e.args.get("exists")), bool(e.args.get("cascade"))
    if kind == "TABLE":
        return [m.DropTable(**c, tables=names, if_exists=ie, cascade=cascade)]
    if kind == "INDEX":
        on = e.args.get("cluster")
        table = _name(on.this) if isinstance(on, exp.OnProperty) else None
        return [m.DropIndex(**c, names=names, if_exists=ie, table=table)]
    if kind == "VIEW":
        return [m.DropView(**c, names=names, if_exists=ie, cascade=cascade)]
    if kind in ("SCHEMA", "DATABASE"):
        # In MySQL a schema is a database: DROP SCHEMA drops the database.
        return [m.DropDatabase(**c, name=n, if_exists=ie) for n in names]
    kind_name = kind.lower().replace(" ", "_") or "object"
    return [m.DropObject(**c, object_type=kind_name, names=names, if_exists=ie, cascade=cascade)]


def _alter(e: exp.Alter, c: Common) -> list[m.Statement]:
    if str(e.args.get("kind") or "").upper() != "TABLE":
        return [
            m.AlterObject(
                **c, object_type=str(e.args.get("kind") or "").lower(), name=_name(e.this)
            )
        ]
    table = _name(e.this)
    out: list[m.Statement] = []
    for i, act in enumerate(e.args.get("actions") or ()):
        a = {**c, "table": table, "action": i}
        out.extend(_action(act, a, c, table))
    options = list(e.args.get("options") or ())
    if any(isinstance(o, exp.CharacterSetProperty) for o in options):
        out.append(m.AlterTableOther(**c, table=table, action=len(out), subtype="TableCharset"))
    if not out:
        out.append(m.AlterTableOther(**c, table=table, subtype="table_options"))
    algorithm = online.option(options, exp.AlgorithmProperty)
    return online.online_ddl(out, algorithm, online.option(options, exp.LockProperty))


def _action(act: exp.Expression, a: Common, c: Common, table: str) -> list[m.Statement]:
    if isinstance(act, exp.ColumnDef):
        return [
            m.AddColumn(
                **a,
                column=column_def(act),
                placement=online.placement(act, _name),
                inline_references=online.inline_references(act, _name),
            )
        ]
    if isinstance(act, exp.ModifyColumn):
        cd = act.this
        col = column_def(cd)
        old = act.args.get("rename_from")
        place = online.placement(cd, _name)
        out: list[m.Statement] = []
        if old is not None and old.name != cd.name:
            out.append(m.RenameColumn(**a, column=old.name, new_name=cd.name, placement=place))
        out.append(
            m.AlterColumnType(
                **a,
                column=old.name if old is not None else cd.name,
                type=col.type,
                placement=place,
                definition=col,
                charset=online.charset(cd, _name),
            )
        )
        return out
    if isinstance(act, exp.Drop):
        kind = str(act.args.get("kind") or "COLUMN").upper()
        names = list(_drop_names(act))
        if kind == "COLUMN":
            return [
                m.DropColumn(**a, column=n, if_exists=bool(act.args.get("exists"))) for n in names
            ]
        if kind == "INDEX":
            return [m.DropIndex(**c, names=tuple(names), table=table)]
        ctype = {"FOREIGN KEY": "foreign_key", "CHECK": "check"}.get(kind)
        return [m.DropConstraint(**a, name=n, constraint_type=ctype) for n in names]
    if isinstance(act, exp.RenameColumn):
        return [m.RenameColumn(**a, column=_name(act.this), new_name=_name(act.args.get("to")))]
    if isinstance(act, exp.AlterRename):
        return [m.RenameTable(**c, table=table, new_name=_name(act.this))]
    if isinstance(act, exp.AlterColumn):
        colname = _name(act.this)
        if act.args.get("dtype") is not None:
            return [
                m.AlterColumnType(**a, column=colname, type=act.args["dtype"].sql(dialect="mysql"))
            ]
        if act.args.get("default") is not None:
            d = act.args["default"]
            return [
                m.SetDefault(
                    **a,
                    column=colname,
                    default=d.sql(dialect="mysql"),
                    default_volatile=_volatile(d),
                )
            ]
        if act.args.get("drop"):
            return [m.DropDefault(**a, column=colname)]
        return [m.AlterTableOther(**a, subtype="AlterColumn")]
    if isinstance(act, exp.AddConstraint):
        out = []
        for node in act.expressions:
            name, ctype, cols, fk = _constraint(node)
            if fk is not None:
                fkd = {
                    k: getattr(fk, k)
                    for k in (
                        "name",
                        "columns",
                        "ref_table",
                        "ref_columns",
                        "not_valid",
                        "on_delete",
                    )
                }
                out.append(m.AddForeignKey(**a, **fkd))
            elif ctype == "index":
                inner = node.expressions[0] if isinstance(node, exp.Constraint) else node
                itype = str(inner.args.get("kind") or "").lower() or None
                out.append(
                    m.CreateIndex(**c, name=name, table=table, columns=cols, index_type=itype)
                )
            elif ctype is not None:
                out.append(m.AddConstraint(**a, name=name, constraint_type=ctype, columns=cols))
            else:
                out.append(m.AlterTableOther(**a, subtype=type(node).__name__))
        return out
    return [m.AlterTableOther(**a, subtype=type(act).__name__)]


def _set(e: exp.Set, c: Common) -> list[m.Statement]:
    out: list[m.Statement] = []
    for item in e.expressions:
        this = item.this
        if isinstance(this, exp.EQ):
            out.append(
                m.Set(
                    **c, name=_name(this.this).lower(), value=this.expression.sql(dialect="mysql")
                )
            )
        else:
            kind = str(item.args.get("kind") or "").lower() or "unknown"
            out.append(
                m.Set(**c, name=kind, value=this.sql(dialect="mysql") if this is not None else None)
            )
    return out


def _dml(e: exp.Expression, c: Common) -> list[m.Statement]:
    if isinstance(e, exp.Insert):
        target = e.this.this if isinstance(e.this, exp.Schema) else e.this
        return [m.Insert(**c, table=_name(target), from_select=isinstance(e.expression, exp.Query))]
    cls = m.Update if isinstance(e, exp.Update) else m.Delete
    return [cls(**c, table=_name(e.this), has_where=e.args.get("where") is not None)]


_BUILDERS: dict[type, Callable[[Any, Common], list[m.Statement]]] = {
    exp.Create: _create,
    exp.Drop: _drop,
    exp.Alter: _alter,
    exp.Insert: _dml,
    exp.Update: _dml,
    exp.Delete: _dml,
    exp.Set: _set,
    exp.Select: lambda e, c: [m.Select(**c)],
    exp.Union: lambda e, c: [m.Select(**c)],
    exp.TruncateTable: lambda e, c: [
        m.Truncate(**c, tables=tuple(_name(t) for t in e.expressions))
    ],
    exp.Transaction: lambda e, c: [m.Transaction(**c, action="begin")],
    exp.Commit: lambda e, c: [m.Transaction(**c, action="commit")],
    exp.Rollback: lambda e, c: [m.Transaction(**c, action="rollback")],
    exp.Use: lambda e, c: [m.Set(**c, name="use", value=_name(e.this))],
}


def build(e: exp.Expression, common: Common) -> list[m.Statement]:
    """Model statements for one sqlglot expression; ``unknown`` for what is not modelled."""
    if privileged.PRIVILEGED_HEAD.match(str(common.get("text", ""))):
        # Privileged statements are read by their own grammar, never by the generic
        # builders (SET PASSWORD = '...' would put the password in a ``set`` value).
        known = privileged.privileged(str(common["text"]), common)
        if known is not None:
            return known
        return [
            m.Unknown(
                **common,
                reason="MySQL privileged statement (GRANT/REVOKE, USER/ROLE, SET ROLE/PASSWORD) "
                "in a form sqlgate does not model",
            )
        ]
    if isinstance(e, exp.Command) and str(e.this).upper() == "CALL":
        # CALL runs a stored procedure: modelled, but opaque (its effect is unknown).
        target = str(
            e.expression.this if isinstance(e.expression, exp.Literal) else e.expression or ""
        )
        name = target.split("(", 1)[0].strip()
        return [m.Call(**{**common, "opaque": True}, name=name)]
    if isinstance(e, exp.Command) and (known := online.command(e, common, _create)):
        return known
    if isinstance(e, exp.Command):
        head = f"{e.this} {str(e.expression or '')[:40]}".strip()
        return [
            m.Unknown(
                **common,
                reason="sqlglot keeps this MySQL statement as an opaque command",
                detail=head,
            )
        ]
    builder = _BUILDERS.get(type(e))
    if builder is None:
        return [
            m.Unknown(
                **common,
                reason=f"MySQL statement type {type(e).__name__} is not modelled by sqlgate",
            )
        ]
    return builder(e, common)
