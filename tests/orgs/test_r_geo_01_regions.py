"""R-GEO-01: the country decides the data residency region, for every country the rule names and
samples of every other Europe/Middle East/Africa (EU) and Americas/Asia-Pacific (US) country,
including the first and last code of each of the domain's EMEA lists (Europe, Middle East, Africa).
Checked where it matters: the region stored on the customer a trial creates, and the catalog the
start form shows as soon as a country is picked (`countries`)."""
from __future__ import annotations

import pytest

from tests.helpers import gql

NAMED = [("GB", "UK"), ("CA", "CANADA"), ("JP", "JAPAN"), ("AU", "AUSTRALIA"), ("NZ", "AUSTRALIA"),
         ("SG", "SINGAPORE"), ("SA", "SAUDI_ARABIA"), ("AE", "UAE"), ("IN", "INDIA")]
EMEA = ["AD", "DE", "FR", "NO", "IE", "UA", "VA", "AM", "IL", "TR", "QA", "YE", "AO", "EG", "ZA", "KE", "ZW"]
AMERICAS = ["US", "MX", "BR", "AR", "CL", "JM"]
ASIA_PACIFIC = ["KR", "CN", "HK", "TW", "ID", "PH", "VN", "FJ"]
CASES = NAMED + [(c, "EU") for c in EMEA] + [(c, "US") for c in AMERICAS + ASIA_PACIFIC]


@pytest.mark.parametrize(("country", "region"), CASES, ids=[c for c, _ in CASES])
async def test_r_geo_01_region_for_every_named_country_and_samples(kit, client, country, region):
    """Kills: any entry of `geography.FIXED` changed or dropped (its country falls to EU or US), a
    country dropped from an EMEA list (first and last codes included: a mangled list string loses
    them), and EU/US swapped in `region_for`."""
    trial = await kit.start(adminEmail=f"admin@{country.lower()}-co.example", country=country)
    assert trial["customer"]["region"] == region
    catalog = await gql(client, "{ countries { code region supported } }")
    [entry] = [c for c in catalog["data"]["countries"] if c["code"] == country]
    assert entry == {"code": country, "region": region, "supported": True}
