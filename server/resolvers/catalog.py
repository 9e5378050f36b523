"""Catalog queries, open to anonymous callers (DESIGN contract): countries with their data
residency region (R-GEO-01), business verticals (R-NEW-01), the device catalog, time zones and
trial durations (R-SVC-02/05)."""
from __future__ import annotations

import zoneinfo
from functools import lru_cache

import strawberry
from strawberry.types import Info

from server import loaders
from server.db.models import DeviceModel as DeviceModelRow
from server.domain.devices import catalog
from server.domain.orgs import geography
from server.planner import declare as plan
from server.planner import roots
from server.domain.trials.options import BUSINESS_VERTICALS, DURATIONS
from server.schema import columns
from server.schema.enums import DataRegion
from server.schema.types.catalog import Country
from server.schema.types.devices import DeviceModel


@lru_cache
def _time_zones() -> list[str]:
    return sorted(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))


@strawberry.type
class CatalogQuery:
    @strawberry.field
    def countries(self) -> list[Country]:
        return [Country(code=code, name=name, region=DataRegion(region.value), supported=supported)
                for code, name, region, supported in geography.countries()]

    @strawberry.field
    def business_verticals(self) -> list[str]:
        return list(BUSINESS_VERTICALS)

    @strawberry.field
    async def device_catalog(self, info: Info) -> list[DeviceModel]:
        async with loaders.read(info.context) as db:
            rows = await catalog.models(db)
        return [DeviceModel(**columns.values(DeviceModel, r)) for r in rows]

    @strawberry.field(description="IANA time zones for a Meetings site (R-SVC-02).")
    def time_zones(self) -> list[str]:
        return _time_zones()

    @strawberry.field(description="R-SVC-05: the durations (and extensions, R-EXT-01) to choose from.")
    def trial_durations(self) -> list[int]:
        return list(DURATIONS)


# What the planner reads for these fields (server.planner): the same rows and order, the same constants.
plan.root("deviceCatalog", roots.RowList("DeviceModel", DeviceModelRow, order=lambda model: [model.c.type, model.c.model],
                                         public=True))
plan.root("trialDurations", roots.Value(lambda: list(DURATIONS)))
plan.plannable("Country", code=plan.ByRoot(), name=plan.ByRoot(), region=plan.ByRoot(), supported=plan.ByRoot())
plan.root("countries", roots.Catalog("Country", lambda: [
    {"code": code, "name": name, "region": DataRegion(region.value).name, "supported": supported}
    for code, name, region, supported in geography.countries()]))
plan.root("businessVerticals", roots.Value(lambda: list(BUSINESS_VERTICALS)))
plan.root("timeZones", roots.Value(_time_zones))
