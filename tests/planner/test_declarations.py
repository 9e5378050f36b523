"""The planner's declarations and the schema say the same fields (server.planner.declare), and a
field that is just a column is declared once: the Strawberry attribute (server.schema.columns)."""
from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import strawberry

from server.db.models import Trial as TrialRow
from server.planner import declare as plan
from server.schema import columns
from server.schema.enums import TrialState
from server.schema.node import Node, to_global_id
from server.schema.schema import schema


def test_every_declaration_names_a_field_of_the_schema():
    gql = schema._schema
    for type_name, declared in plan.TYPES.items():
        gql_type = gql.get_type(type_name)
        assert gql_type is not None, f"{type_name} is declared for the planner but the schema has no such type"
        assert not set(declared.fields) - set(gql_type.fields), (type_name, set(declared.fields) - set(gql_type.fields))
    assert not set(plan.ROOTS) - set(gql.query_type.fields), set(plan.ROOTS) - set(gql.query_type.fields)
    for name in plan.UNPLANNED:
        type_name, _, field = name.rpartition(".")
        gql_type = gql.get_type(type_name) if type_name else gql.query_type
        assert gql_type is not None and field in gql_type.fields, f"unplanned({name!r}) names no field of the schema"


def test_every_field_of_a_declared_type_is_declared_or_says_why_not():
    """A field added to a planned type without a declaration would send every query that selects it
    to the reference path, silently: declare it, or say why with `plan.unplanned("Type.field", why)`."""
    gql = schema._schema
    for type_name, declared in plan.TYPES.items():
        for field in gql.get_type(type_name).fields:
            name = f"{type_name}.{field}"
            assert (field in declared.fields) != (name in plan.UNPLANNED), \
                f"{name}: declare it beside its Strawberry type, or plan.unplanned({name!r}, why) (not both)"


def test_a_plain_column_field_is_declared_once_by_its_attribute(monkeypatch):
    """Adding a plain column field is one line: the attribute. `order_number` is a column of trials that
    the API does not show; a type that says `order_number: str | None` gets the planner's Column and
    `from_row`'s value from that line alone (README "Adding a field")."""
    monkeypatch.setattr(plan, "TYPES", {})
    monkeypatch.setattr(columns, "MODELS", {})

    @strawberry.type
    class Probe(Node):
        state: TrialState
        ends_at: datetime | None
        order_number: str | None  # the one new line
        version: int = strawberry.field(description="an attribute with a description is still an attribute")

        @strawberry.field
        def kind(self) -> str:  # a resolver is computed, never a column
            return "x"

    declared = plan.declare(Probe, TrialRow, version=plan.Column("version", convert=lambda v: v + 1))
    assert declared.fields["orderNumber"] == plan.Column("order_number")
    assert declared.fields["endsAt"] == plan.Column("ends_at", time=True)
    assert declared.fields["state"] == plan.Column("state")
    assert declared.fields["id"] == plan.GlobalId("Probe")
    assert declared.fields["version"].convert(1) == 2, "what is written by hand wins"
    assert "kind" not in declared.fields
    row = SimpleNamespace(id=7, state="ACTIVE", ends_at=datetime(2027, 1, 1, tzinfo=UTC), order_number="PO-1", version=3,
                          kind="NEW")
    probe = Probe(**columns.values(Probe, row, id=to_global_id("Probe", row.id)))
    assert (probe.state, probe.ends_at, probe.order_number, probe.version) == \
        (TrialState.ACTIVE, row.ends_at, "PO-1", 3)
    columns.plain.cache_clear()


def test_the_real_types_read_their_plain_columns_from_the_attributes():
    """The types keep no hand-written copy of a plain column (what a page of trials and customers reads)."""
    from server.schema.types.customers import Customer
    from server.schema.types.trials import Trial

    assert {f.graphql_name for f in columns.plain(Trial)} == {
        "state", "licenseCount", "durationDays", "kind", "startsAt", "endsAt", "graceEndsAt", "version"}
    assert {f.graphql_name for f in columns.plain(Customer)} == {
        "name", "country", "region", "businessVertical", "adminEmail", "provisioningStatus"}
    # R-EX-01: the masked admin email is the one plain column the planner reads as the viewer sees it
    assert not isinstance(plan.TYPES["Customer"].fields["adminEmail"], plan.Column)
