"""`/trials-team`: the queue for the platform's trials team (R-ROLE-05)."""
from server.enums import Role
from tests import factories


async def test_trials_team_sees_the_queue(client, sessionmaker):
    async with sessionmaker() as db, db.begin():
        from server.domain.orgs import directory

        await directory.create_user(db, "queue@platform.example", [Role.TRIALS_TEAM], partner_id=None,
                                    password="correct horse battery staple")
    await factories.login(client, "queue@platform.example")
    page = await client.get("/trials-team")
    assert page.status_code == 200
    assert "Shipments to record" in page.text and "Nothing waiting." in page.text


async def test_partner_users_may_not_open_the_queue(client, team):
    await factories.login(client, team.emails[Role.PARTNER_FULL_ADMIN], team.password)
    assert (await client.get("/trials-team")).status_code == 403
