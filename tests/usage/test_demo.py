"""`make run`'s demo seed gives its customers usage through the ingest (SPEC §10): the first screen a
newcomer sees (the customers list) shows each adoption health, HEALTHY, LOW, INACTIVE and NOT_STARTED."""
from __future__ import annotations

import re

from server import demo
from server.domain.core.actor import Actor, ActorKind
from server.enums import Role
from tests.factories import login
from tests.trials.conftest import run_as

QUERY = "{ customers(first: 10) { edges { node { name trials { state adoption { health activeUsers30d } } } } } }"


async def test_r_use_05_the_demo_seed_has_a_trial_of_each_health(app, sessionmaker):
    async with sessionmaker() as db, db.begin():
        seeded = await demo.seed(db)
    actor = Actor(kind=ActorKind.PARTNER_USER, user_id=None, partner_id=seeded.partner_id,
                  roles=frozenset({Role.PARTNER_FULL_ADMIN}), email="demo@nordlys.example")
    body = await run_as(app, actor, QUERY)
    health = {e["node"]["name"]: [t["adoption"]["health"] for t in e["node"]["trials"]]
              for e in body["data"]["customers"]["edges"]}
    assert health["Fjord Shipping ASA"] == ["HEALTHY"] and health["Maple Dental Group"] == ["INACTIVE"]
    assert health["Lofoten Seafood AS"] == ["LOW"] and health["Bergen Arkitekter AS"] == ["NOT_STARTED"]


async def test_r_use_05_the_demo_customers_list_shows_the_four_healths(app, sessionmaker, client):
    async with sessionmaker() as db, db.begin():
        await demo.seed(db)
    await login(client, demo.SIGN_INS[0][0], demo.DEMO_PASSWORD)      # the first sign-in `make run` prints
    page = await client.get("/customers")
    assert page.status_code == 200
    shown = {}
    for row in page.text.split('<tr id="customer-')[1:]:
        name = re.search(r'<a href="/customers/[^"]+">([^<]+)</a>', row).group(1)
        shown[name] = re.findall(r'<span class="badge [a-z]*" title="[^"]*">([^<]+?) · ', row)
    assert {name: shown[name] for name in ("Fjord Shipping ASA", "Lofoten Seafood AS", "Maple Dental Group",
                                           "Bergen Arkitekter AS")} == {
        "Fjord Shipping ASA": ["Healthy"], "Lofoten Seafood AS": ["Low adoption"], "Maple Dental Group": ["Inactive"],
        "Bergen Arkitekter AS": ["Not started"]}, shown
