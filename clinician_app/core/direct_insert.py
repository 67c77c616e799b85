"""Insert one new ORM object with a single statement, without a flush, for the
hot paths where the unit of work's cost shows (CAD ingest: the call and its
idempotency record).

    call = Call(...)
    if not insert_as_stored(db.session, call, skip_conflicts=True):
        ...  # a unique constraint already holds this row's values: nothing was written

What a flush would have done for the object is done here: the protected-field
guard checks its encrypted tokens and computes its blind indexes
(``types.guard_new_row``), column defaults fill what was not given, and the
object joins the session as stored, every column loaded, so reading it back
costs no query. Why not a flush: it runs the whole unit of work (dependency
sort, per-mapper bookkeeping, a savepoint when a conflict must not end the
transaction) for one row, about a millisecond of CPU per object, and the
statement it emits for the row is the same.

With ``skip_conflicts`` the statement is ``INSERT ... ON CONFLICT DO NOTHING``
(PostgreSQL and SQLite both): a row that would break a unique constraint is
not written and the transaction goes on, with no savepoint. On PostgreSQL a
concurrent insert of the same values waits for the first to commit and then
skips, so the caller learns of the duplicate without an error.
"""
from __future__ import annotations

from functools import cache

from sqlalchemy import inspect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import Insert

from .types import guard_new_row


class InsertSkippingConflicts(Insert):
    """``INSERT ... ON CONFLICT DO NOTHING``, without RETURNING (which would have to
    follow the clause). The dialects' own ``on_conflict_do_nothing`` has no cache key
    in SQLAlchemy 2.0, so it would be compiled again on every call; this statement
    is cached like a plain insert."""

    inherit_cache = True


@compiles(InsertSkippingConflicts)
def _compile_skipping_conflicts(element, compiler, **kw):
    return compiler.visit_insert(element, **kw) + " ON CONFLICT DO NOTHING"


@cache
def _statement(table, skip_conflicts: bool) -> Insert:
    # Built once per table: SQLAlchemy memoises a statement object's cache key.
    statement = (InsertSkippingConflicts if skip_conflicts else Insert)(table)
    # SQLAlchemy keeps an INSERT's row count only when asked (0 = skipped).
    return statement.execution_options(preserve_rowcount=True)


@cache
def _plan(mapper) -> tuple:
    """Per mapped class, once: (attribute, column, default or None, whether a None
    may be left out of the statement) for each column."""
    if mapper.inherits is not None:
        raise TypeError(f"{mapper.class_.__name__} inherits a table: flush it instead")
    plan = []
    for prop in mapper.column_attrs:
        column = prop.columns[0]
        default = column.default if column.default is not None and not column.default.is_sequence else None
        if default is None and column.server_default is not None:
            raise TypeError(f"{column} has a server default: flush {mapper.class_.__name__} instead")
        plan.append((prop.key, column.key, default, column.server_default is None))
    return tuple(plan)


def _column_values(obj, state) -> dict:
    """The statement's values: each column as given, else its default (set on the
    object too, so it is loaded). A None is left out, the column being NULL by
    default anyway: fewer values to convert and send."""
    given = state.dict
    values = {}
    for key, column_key, default, none_may_be_left_out in _plan(state.mapper):
        if key in given:
            value = given[key]
        elif default is not None:
            value = default.arg(None) if default.is_callable else default.arg
            set_committed_value(obj, key, value)
        else:
            value = None
            set_committed_value(obj, key, None)
        if value is not None or not none_may_be_left_out:
            values[column_key] = value
    return values


def insert_as_stored(session, obj, *, skip_conflicts: bool = False) -> bool:
    """Insert ``obj`` (new, not yet in the session) in one statement and attach it as
    stored; returns False, attaching nothing, if ``skip_conflicts`` skipped it."""
    # What the session holds unwritten goes first, as autoflush would send it
    # before a query: the row may refer to it (nothing to do costs a check).
    session.flush()
    guard_new_row(obj)
    state = inspect(obj)
    values = _column_values(obj, state)
    result = session.connection().execute(_statement(state.mapper.local_table, skip_conflicts), values)
    if result.rowcount == 0:
        return False
    make_transient_to_detached(obj)
    session.add(obj)
    return True
