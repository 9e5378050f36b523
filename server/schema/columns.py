"""A field that is just a column is declared once: as the Strawberry attribute.

A Strawberry type names the table it reads with `server.planner.declare.object(Type, Model, ...)`
(beside the type). From then on, each attribute of the type (no resolver) whose snake_case name is a
column of the model's table is a *plain column field*: the planner reads that column
(`declare.object` declares it) and the reference path reads the same column of the row
(`values(Type, row)` in the type's `from_row`). Only computed fields and relations are written by
hand. Adding a plain column field is one line (the attribute) plus its migration (README "Adding a
field").

What the attribute's type says is how the value is answered: an enum is built from the stored text,
a list is copied (a list of enums: each built), a timestamp column is read by the planner as UTC text.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from functools import cache
from typing import Any

from sqlalchemy import Date, DateTime
from strawberry.types.base import StrawberryList, StrawberryOptional
from strawberry.types.enum import StrawberryEnumDefinition
from strawberry.utils.str_converters import to_camel_case

#: The table each Strawberry type reads its plain column fields from (set by `declare.object`).
MODELS: dict[type, Any] = {}


@dataclass(frozen=True)
class PlainField:
    python_name: str
    graphql_name: str
    column: str
    #: a timestamp column (the planner reads it as UTC text, answered like Python's isoformat)
    time: bool
    #: the reference path's conversion of the stored value (None: as it is)
    convert: Callable[[Any], Any] | None


def bind(gql_type: type, model: Any) -> None:
    """Say which table `gql_type`'s plain column fields read (`declare.object` calls it)."""
    if MODELS.get(gql_type, model) is not model:
        raise ValueError(f"{gql_type.__name__} already reads {MODELS[gql_type]!r}")
    MODELS[gql_type] = model
    plain.cache_clear()


@cache
def plain(gql_type: type) -> tuple[PlainField, ...]:
    """The fields of `gql_type` that are just a column of its model (an attribute without resolver
    whose name is a column; `id` excepted: a Node's global ID is derived from it)."""
    table = MODELS[gql_type].__table__
    found = []
    for field in gql_type.__strawberry_definition__.fields:
        name = field.python_name
        if field.base_resolver is not None or name == "id" or name not in table.c:
            continue
        column_type = table.c[name].type
        time = isinstance(column_type, DateTime) or isinstance(getattr(column_type, "impl", None), DateTime)
        if isinstance(column_type, Date):
            time = False
        found.append(PlainField(name, field.graphql_name or to_camel_case(name), name, time, _converter(field.type)))
    return tuple(found)


def values(gql_type: type, row: Any, **computed: Any) -> dict[str, Any]:
    """The keyword arguments of `gql_type(...)` for its plain column fields read from `row` (an ORM
    object or a Core row), with `computed` (the hand-written fields) added or overriding."""
    found = {}
    for field in plain(gql_type):
        value = getattr(row, field.column)
        found[field.python_name] = value if field.convert is None or value is None else field.convert(value)
    found.update(computed)
    return found


def _converter(field_type: Any) -> Callable[[Any], Any] | None:
    if isinstance(field_type, StrawberryOptional):
        field_type = field_type.of_type
    if isinstance(field_type, StrawberryList):
        each = _enum(field_type.of_type)
        return (lambda items: [each(item) for item in items]) if each is not None else list
    return _enum(field_type)


def _enum(field_type: Any) -> type[Enum] | None:
    if isinstance(field_type, StrawberryEnumDefinition):
        return field_type.wrapped_cls
    definition = getattr(field_type, "_enum_definition", None)
    return definition.wrapped_cls if definition is not None else None
