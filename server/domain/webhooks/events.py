"""The webhook event catalogue and payloads.

One mechanism, not a second write beside every audit call: an audit event IS the webhook event.
Every state change already writes its audit event in its own transaction on every path (the ORM's
`audit.record`, the sweep's set-based `audit.record_many`, and the SQL statements of
server/domain/trials/sql.py and server/domain/trials/start_rows.py). `EVENT_TYPES` maps the audit
actions that concern a partner's customer to the public event types; the fan-out
(server/domain/webhooks/fanout.py) reads the events it has not seen yet and makes one delivery per
subscribed endpoint. A new audit action reaches webhooks by adding one line here.

Payload (`apiVersion` 2026-12-01), the body of every POST:

    {"apiVersion": "2026-12-01", "id": "<event global ID>", "type": "trial.extended",
     "createdAt": "2026-12-04T19:00:00+00:00",
     "data": {"object": {"__typename": "Trial", "id": "<Trial global ID>",
                         "customer": {"id": "<Customer global ID>"}, "state": "ACTIVE", "endsAt": "…", …},
              "previousAttributes": {"endsAt": "…"}}}

`object` is the event's subject as the public GraphQL types name it (global IDs, camelCase), with
the state the audit event recorded after the change; `previousAttributes` the state before, when
the change recorded one. The event's ID is the global ID of `WebhookEvent:<audit id>`; it is also
the `webhook-id` header, the same on every retry and resend.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from server.domain.core.global_ids import global_id

API_VERSION = "2026-12-01"
TEST_EVENT = "webhook.test"

#: audit action -> public event type.
EVENT_TYPES: dict[str, str] = {
    "trial.started": "trial.started",
    "consent.requested": "trial.consent_requested",
    "consent.consent_accepted": "trial.consent_accepted",
    "consent.consent_declined": "trial.consent_declined",
    "consent.consent_timed_out": "trial.consent_expired",
    "consent.request_withdrawn": "trial.cancelled",
    "trial.provisioned": "trial.provisioned",
    "trial.extended": "trial.extended",
    "trial.edited": "trial.updated",
    "trial.warning_sent": "trial.expiring_soon",
    "trial.expired": "trial.expired",
    "trial.converted": "trial.converted",
    "trial.cancelled": "trial.cancelled",
    "trial.released": "trial.released",
    "trial.adoption_changed": "trial.adoption_changed",    # R-USE-07 (server.domain.usage.evaluation)
    "shipment.recorded": "shipment.recorded",
    "shipment.return_recorded": "return.recorded",
    "shipment.overdue": "return.overdue",
    "device_extension.decided": "device_extension.decided",
    "numbers.released": "calling.numbers_released",
}
#: What an endpoint may subscribe to, in catalogue order.
CATALOGUE: tuple[str, ...] = tuple(dict.fromkeys(EVENT_TYPES.values()))
#: Audit subject type -> the public GraphQL type of the event's object.
OBJECT_TYPES = {"Trial": "Trial", "Shipment": "Shipment", "DeviceExtensionRequest": "DeviceExtensionRequest"}
#: Keys of audit states that hold another row's id, and that row's public type.
REFERENCES = {"trial": "Trial", "customer": "Customer", "shipment": "Shipment"}


def event_id(audit_id: int) -> str:
    return global_id("WebhookEvent", audit_id)


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(word.capitalize() for word in rest)


def _public(state: dict[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in (state or {}).items():
        if key in REFERENCES and isinstance(value, int):
            out[key] = {"id": global_id(REFERENCES[key], value)}
        else:
            out[_camel(key)] = value
    return out


def payload(audit_id: int, event_type: str, at: datetime, subject_type: str, subject_id: int | None,
            customer_id: int | None, before: dict | None, after: dict | None) -> str:
    """The JSON body for an audit event (compact, keys in a fixed order: the bytes that are signed)."""
    state = _public(after)
    if subject_type == "ConsentRequest" and "trial" in state:      # consent.requested: the trial is the object
        obj = {"__typename": "Trial", **state.pop("trial")}
    else:
        obj = {"__typename": OBJECT_TYPES.get(subject_type, subject_type),
               "id": global_id(OBJECT_TYPES.get(subject_type, subject_type), subject_id)}
    if customer_id is not None:
        obj["customer"] = {"id": global_id("Customer", customer_id)}
    obj.update(state)
    data: dict[str, Any] = {"object": obj}
    if before:
        data["previousAttributes"] = _public(before)
    body = {"apiVersion": API_VERSION, "id": event_id(audit_id), "type": event_type, "createdAt": at.isoformat(),
            "data": data}
    return json.dumps(body, separators=(",", ":"), default=str)


def check_types(event_types: list[str]) -> list[str]:
    """The subscribed types in catalogue order; unknown ones raise ValueError naming them."""
    unknown = sorted(set(event_types) - set(CATALOGUE))
    if unknown:
        raise ValueError(", ".join(unknown))
    return [t for t in CATALOGUE if t in set(event_types)]
