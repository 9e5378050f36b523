"""R-ROLE-02 / R-ROLE-05: converting a trial is a partner's act; a user of no partner (the trials team)
is refused with FORBIDDEN, the answer saying why."""
from __future__ import annotations

from server.schema.node import to_global_id
from tests.factories import trials_team_token
from tests.helpers import gql
from tests.trials.conftest import CONVERT


async def test_r_role_02_a_user_of_no_partner_may_not_convert_and_is_told_why(client, sessionmaker):
    """Kills (fresh make mutate): `visibility.partner_of`'s message "Only partner users may do this."
    changed (its callers: convertTrial, startTrial's partner)."""
    token = await trials_team_token(sessionmaker)
    body = await gql(client, CONVERT, {"t": to_global_id("Trial", 1), "o": "PO-1", "e": "it@customer.example",
                                       "s": ["MESSAGING"]}, token=token)
    assert "errors" not in body, body
    errors = body["data"]["convertTrial"]["userErrors"]
    assert [(e["code"], e["message"]) for e in errors] == [("FORBIDDEN", "Only partner users may do this.")]
