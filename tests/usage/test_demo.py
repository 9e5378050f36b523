"""`make run`'s demo seed gives its customers usage through the ingest (SPEC §10): a healthy trial and
an inactive one show on the first screen."""
from __future__ import annotations

from server import demo
from server.domain.core.actor import Actor, ActorKind
from server.enums import Role
from tests.trials.conftest import run_as

QUERY = "{ customers(first: 10) { edges { node { name trials { state adoption { health activeUsers30d } } } } } }"


async def test_r_use_05_the_demo_seed_has_a_healthy_and_an_inactive_trial(app, sessionmaker):
    async with sessionmaker() as db, db.begin():
        seeded = await demo.seed(db)
    actor = Actor(kind=ActorKind.PARTNER_USER, user_id=None, partner_id=seeded.partner_id,
                  roles=frozenset({Role.PARTNER_FULL_ADMIN}), email="demo@nordlys.example")
    body = await run_as(app, actor, QUERY)
    health = {e["node"]["name"]: [t["adoption"]["health"] for t in e["node"]["trials"]]
              for e in body["data"]["customers"]["edges"]}
    assert health["Fjord Shipping ASA"] == ["HEALTHY"] and health["Maple Dental Group"] == ["INACTIVE"]
