"""GraphQL documents and shortcuts for the partner's settings (SPEC §11)."""
from __future__ import annotations

from tests.helpers import gql

FIELDS = "reminderDays senderName replyTo logoUrl emailRecipients { kind roles }"
READ = f"{{ partnerSettings {{ {FIELDS} }} }}"
UPDATE = f"""mutation($input: PartnerSettingsInput!) {{ updatePartnerSettings(input: $input) {{
  settings {{ {FIELDS} }} userErrors {{ code field message }} }} }}"""


async def update(client, token: str, **changes) -> dict:
    """updatePartnerSettings' payload."""
    body = await gql(client, UPDATE, {"input": changes}, token=token)
    assert "errors" not in body, body
    return body["data"]["updatePartnerSettings"]


async def read(client, token: str) -> dict:
    body = await gql(client, READ, token=token)
    assert "errors" not in body, body
    return body["data"]["partnerSettings"]
