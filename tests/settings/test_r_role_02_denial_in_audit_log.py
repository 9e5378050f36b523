"""R-ROLE-02: everything the matrix does not allow is denied with FORBIDDEN, and logged: the denial is in
the partner's audit log (R-AUDIT-01) as what it is — an action refused, with the action and why."""
from __future__ import annotations

import structlog
from structlog.testing import capture_logs

from server.domain.core import audit
from server.enums import Role
from tests.factories import partner_team
from tests.helpers import gql

LOG = """query($filter: AuditLogFilter) { auditLog(first: 10, filter: $filter) {
  edges { node { actor action subjectType customer { id } after } } } }"""


async def test_r_role_02_a_denial_is_audited_as_an_action(client, sessionmaker, monkeypatch):
    """Kills (fresh make mutate): `audit.denied`'s subject type "action" renamed ("XXactionXX"),
    and its log event "permission_denied" renamed (the warning operators search for)."""
    team = await partner_team(sessionmaker)
    with capture_logs() as logs:
        # a fresh proxy: the module's logger may have cached the app's processors on its first use
        # (cache_logger_on_first_use), which capture_logs' configuration then no longer reaches
        monkeypatch.setattr(audit, "log", structlog.get_logger("audit"))
        refused = await gql(client, "{ partnerUsers { id } }", token=team.tokens[Role.READ_ONLY])
    assert refused["data"] is None and refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert [(e["event"], e["log_level"], e["action"]) for e in logs if e["event"] == "permission_denied"] == [
        ("permission_denied", "warning", "partnerUsers")]
    body = await gql(client, LOG, {"filter": {"action": "permission.denied"}}, token=team.tokens[Role.PARTNER_FULL_ADMIN])
    assert "errors" not in body, body
    [node] = [e["node"] for e in body["data"]["auditLog"]["edges"]]
    assert (node["action"], node["subjectType"], node["customer"]) == ("permission.denied", "action", None)
    assert node["after"] == {"action": "partnerUsers", "detail": ""}
