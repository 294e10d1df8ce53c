"""Small SQL helpers shared by the apps' search selectors."""

from __future__ import annotations

from typing import Any

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
