"""An audit event in words, in the reader's language (R-AUDIT-01): who did what, as both the customer
page's history and the partner's audit log (`/settings/audit`) show it: "Sales full admin Kari
Nordmann extended the trial by 30 days", never `partner_user:kari@…` / `trial.extended`. The words
come from one table (server.pages.labels.audit_words); this only translates them."""
from __future__ import annotations

from typing import Any

from server.pages import labels, rendering


def who_and_what(event: dict[str, Any]) -> dict[str, str]:
    """{"who", "what"} of an event carrying actorKind, actorName, actorRole, action, subjectType, after."""
    who, values, what = labels.audit_words(event)
    after = event.get("after") or {}
    role = values.get("role")
    if role:                                      # the role's words in the reader's language
        values = {**values, "role": rendering._(role)}
    days = after.get("days", "") if isinstance(after, dict) else ""
    return {"who": rendering._(who, **values) if values else rendering._(who),
            "what": rendering._(what, days=days, subject=(event.get("subjectType") or "").lower())
            if "%(" in what else rendering._(what)}
