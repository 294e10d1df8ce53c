"""Small SQL helpers shared by the apps: conditions for search selectors, and prepared statements for hot paths."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.db.models import BooleanField, F, Func


class ColumnCondition(Func):
    """A boolean SQL condition on one column of the queried model, written with the column's name as the query
    aliases it (so it stays right inside a subquery): `ColumnCondition("name_grams", "string_to_array({column},
    ' ') @> %s::text[]", (grams,))` matches an expression index on the same text."""

    output_field = BooleanField()

    def __init__(self, column: str, template: str, params: tuple[Any, ...]) -> None:
        super().__init__(F(column))
        self.condition_template = template
        self.condition_params = params

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, tuple[Any, ...]]:  # type: ignore[override]
        column_sql, column_params = compiler.compile(self.source_expressions[0])
        return self.condition_template.format(column=column_sql), (*column_params, *self.condition_params)


def fetch_one_prepared(sql: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
    """Run one statement of a hot path and return its first row; on PostgreSQL as a prepared statement.

    Django's PostgreSQL cursors bind parameters on the client, so the server parses and plans every statement
    again; for the few statements a registration burst runs thousands of times a second, that costs the database
    more than running them (measured with pgbench: 1,225 against 3,053 registrations a second on 2 CPUs). Here
    psycopg binds on the server and prepares the statement once per connection (`prepare=True`). The statement
    must give every parameter a type the server can infer (cast where it cannot: a NULL in a SELECT list).
    Elsewhere (SQLite) it is an ordinary cursor. Errors are Django's, as from any cursor.
    """
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()  # type: ignore[no-any-return]
    import psycopg  # only on PostgreSQL

    connection.ensure_connection()
    connection.validate_no_broken_transaction()
    started = time.monotonic()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        try:
            cursor.execute(sql, params, prepare=True)
            return cursor.fetchone() if cursor.description else None
        finally:
            if connection.queries_logged:  # counted and shown like every other statement (tests, debug toolbar)
                connection.queries_log.append({"sql": f"{sql} -- prepared, parameters {list(params)!r}",
                                               "time": f"{time.monotonic() - started:.3f}"})  # fmt: skip


class ColumnReader:
    """Read model instances from rows of plain SQL: the columns to select, then instances with Django's converters.

    For hot paths that run a fixed query thousands of times (`fetch_one_prepared`): the ORM would compile the same
    query on every request. `fields` are attribute or field names (None: every concrete field); the instance has the
    others deferred, as with `.only()`. Build one per model and fields, once per process.
    """

    def __init__(self, model: type[models.Model], fields: tuple[str, ...] | None = None, table_alias: str = "") -> None:
        wanted = {getattr(model._meta.get_field(name), "attname", name) for name in fields} if fields else None
        if wanted is not None:
            wanted.add(model._meta.pk.attname)  # type: ignore[union-attr]
        # Model.from_db takes a subset of the columns in the model's own field order.
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if wanted is None or f.attname in wanted]
        self.attnames = [f.attname for f in self.fields]
        quote = connection.ops.quote_name
        prefix = f"{quote(table_alias)}." if table_alias else ""
        self.columns = ", ".join(prefix + quote(str(f.column)) for f in self.fields)
        self._cols = [f.get_col(model._meta.db_table) for f in self.fields]
        self._converters = [connection.ops.get_db_converters(c) + c.get_db_converters(connection) for c in self._cols]

    def instance(self, row: Sequence[Any]) -> Any:
        """The model instance of a row whose first len(self.fields) values are `self.columns`."""
        values = list(row[: len(self.fields)])
        for index, chain in enumerate(self._converters):
            for converter in chain:
                values[index] = converter(values[index], self._cols[index], connection)
        return self.model.from_db(connection.alias, self.attnames, values)
