"""Issue 15 item 2: fallbacks are counted by field and shown at /metrics (the machine itself only)
and by `trialdesk planner report`."""
from __future__ import annotations

from server.planner import metrics
from server.schema.schema import schema
from tests import factories


def undeclared(monkeypatch, name: str = "siteUrlAvailable") -> None:
    """Every root field is declared: take one's declaration away, as if it had none (with its reason)."""
    from server.planner import declare

    monkeypatch.delitem(declare.ROOTS, name)
    monkeypatch.setitem(declare.UNPLANNED, name, "R-SVC-02: taken away by a test")


async def test_metrics_count_what_fell_back_by_field(app, client, sessionmaker, monkeypatch):
    undeclared(monkeypatch)
    team = await factories.partner_team(sessionmaker, "Alpha")
    headers = {"authorization": f"Bearer {next(iter(team.tokens.values()))}"}
    await client.post("/graphql", json={"query": "{ viewer { email } siteUrlAvailable(name: \"acme\") { available } }"}, headers=headers)
    await client.post("/graphql", json={"query": "{ viewer { email } }"}, headers=headers)
    text = metrics.prometheus(app.state.planner, schema._schema)
    assert "trialdesk_planner_fields{state=\"declared\"}" in text
    if app.state.planner is None:  # SQLite: everything on the reference path
        assert "trialdesk_planner_enabled 0" in text
        return
    assert app.state.planner.fallbacks["Query.siteUrlAvailable"] >= 1
    assert 'trialdesk_planner_fallbacks_total{reason="Query.siteUrlAvailable"}' in text
    assert 'trialdesk_planner_answered_total{operation="(anonymous)"}' in text
    # a signed-out caller: answered by the planner with the permission class's error, counted as such
    before = app.state.planner.roots[("viewer", "planner")]
    await client.post("/graphql", json={"query": "{ viewer { email } }"})
    text = metrics.prometheus(app.state.planner, schema._schema)
    assert 'trialdesk_planner_refusals_total{field="viewer",code="UNAUTHENTICATED"} 1' in text
    assert app.state.planner.roots[("viewer", "planner")] == before + 1


async def test_metrics_answer_only_the_machine_itself(client):
    """The test client calls from 127.0.0.1: answered; forwarded by a proxy: 404 like any unknown path."""
    answered = await client.get("/metrics")
    assert answered.status_code == 200 and "trialdesk_planner_enabled" in answered.text
    assert (await client.get("/metrics", headers={"x-forwarded-for": "203.0.113.9"})).status_code == 404
    assert metrics.readable("127.0.0.1", {}) and metrics.readable("::1", {})
    assert not metrics.readable("127.0.0.1", {"x-forwarded-for": "203.0.113.9"})
    assert not metrics.readable("10.0.0.8", {})


def test_planner_report_prints_coverage(monkeypatch):
    from typer.testing import CliRunner

    from server.cli import app

    result = CliRunner().invoke(app, ["planner", "report", "--all"])
    assert result.exit_code == 0, result.output
    assert "planned fields:" in result.output and "left to the reference path" not in result.output, result.output
    undeclared(monkeypatch)
    result = CliRunner().invoke(app, ["planner", "report", "--all"])
    assert "left to the reference path: Query.siteUrlAvailable: R-SVC-02" in result.output, result.output
