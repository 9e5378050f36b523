"""R-SET-01's logo: PNG or JPEG only, at most 200 KB and 1024 px, decoded and re-encoded, served from
our origin by content hash with nosniff, shown on the consent page and /my; bad files refused with a
message, changing nothing."""
from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from server.enums import Role
from tests.factories import login, partner_team
from tests.helpers import gql
from tests.settings.images import b64, image
from tests.settings.kit import read

FULL = Role.PARTNER_FULL_ADMIN
UPLOAD = """mutation($image: String!) { uploadPartnerLogo(image: $image) { settings { logoUrl }
  userErrors { code field message } } }"""


@pytest.fixture
async def team(sessionmaker):
    return await partner_team(sessionmaker)


async def _upload(client, token, data: bytes | str) -> dict:
    body = await gql(client, UPLOAD, {"image": data if isinstance(data, str) else b64(data)}, token=token)
    assert "errors" not in body, body
    return body["data"]["uploadPartnerLogo"]


@pytest.mark.parametrize("fmt, media_type, ext", [("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg")])
async def test_r_set_01_logo_is_reencoded_and_served_by_content_hash_with_nosniff(client, team, fmt, media_type,
                                                                                 ext):
    uploaded = image(fmt) + b"trailing bytes a browser might sniff <script>"
    payload = await _upload(client, team.tokens[FULL], uploaded)
    assert payload["userErrors"] == []
    url = payload["settings"]["logoUrl"]
    assert url.startswith("/logos/") and url.endswith(f".{ext}")
    served = await client.get(url)
    assert served.status_code == 200 and served.headers["content-type"] == media_type
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "immutable" in served.headers["cache-control"]
    assert served.content != uploaded and b"<script>" not in served.content          # never the uploaded bytes
    assert url == f"/logos/{hashlib.sha256(served.content).hexdigest()}.{ext}"
    assert Image.open(io.BytesIO(served.content)).size == (120, 40)
    assert (await client.get(url.replace(f".{ext}", ".gif"))).status_code == 404
    assert (await client.get("/logos/" + "0" * 64 + ".png")).status_code == 404


@pytest.mark.parametrize("data, message", [
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "PNG or JPEG"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * (300 * 1024), "200 KB"),      # 300 KB (5 MB: over /graphql's 1 MB body limit)
    (b"\x89PNG\r\n\x1a\n" + b"not really a png", "PNG or JPEG"),
    (image("PNG", (1500, 20)), "1024"),
    (image("GIF"), "PNG or JPEG"),
    ("not base64 at all!", "PNG or JPEG"),
    ("", "PNG or JPEG"),
])
async def test_r_set_01_bad_logo_is_refused_with_a_message_and_changes_nothing(client, team, data, message):
    good = await _upload(client, team.tokens[FULL], image())
    payload = await _upload(client, team.tokens[FULL], data)
    assert payload["settings"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID_INPUT", ["logo"])]
    assert message in payload["userErrors"][0]["message"]
    assert (await read(client, team.tokens[FULL]))["logoUrl"] == good["settings"]["logoUrl"]


async def test_r_set_01_only_full_admins_upload_a_logo(client, team):
    payload = await _upload(client, team.tokens[Role.PARTNER_ADMIN], image())
    assert [e["code"] for e in payload["userErrors"]] == ["FORBIDDEN"]


async def test_r_set_01_logo_form_uploads_and_refuses_a_5_mb_file_with_a_message(client, team):
    """The form as htmx sends it (the CSRF token in its header, as every boosted form)."""
    csrf = await login(client, team.emails[FULL])
    big = await client.post("/settings/partner/logo", data={"action": "upload"}, headers={"X-CSRF-Token": csrf},
                            files={"logo": ("logo.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024), "image/png")})
    assert big.status_code == 400 and "200 KB" in big.text and 'id="logo-error"' in big.text
    svg = await client.post("/settings/partner/logo", data={"csrf_token": csrf, "action": "upload"},
                            files={"logo": ("logo.svg", b"<svg/>", "image/svg+xml")})
    assert svg.status_code == 400 and "PNG or JPEG" in svg.text
    ok = await client.post("/settings/partner/logo", data={"csrf_token": csrf, "action": "upload"},
                           files={"logo": ("logo.jpg", image("JPEG"), "image/jpeg")})
    assert ok.status_code == 303
    page = await client.get("/settings/partner")
    logo_url = (await read(client, team.tokens[FULL]))["logoUrl"]
    assert logo_url and f'src="{logo_url}"' in page.text
    removed = await client.post("/settings/partner/logo", data={"csrf_token": csrf, "action": "remove"})
    assert removed.status_code == 303 and (await read(client, team.tokens[FULL]))["logoUrl"] is None


BIG_PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * 1024 * 1024)


def _multipart(fields: list[tuple[str, str | None, bytes]]) -> tuple[bytes, dict]:
    """A multipart body with the fields in the given order (name, file name or None, content), as a
    browser without JavaScript sends the form: in document order."""
    boundary = "----trialdeskboundary7MA4YWxkTrZu0gW"
    parts = []
    for name, filename, content in fields:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        kind = "Content-Type: image/png\r\n" if filename else ""
        parts.append(f"--{boundary}\r\nContent-Disposition: {disposition}\r\n{kind}\r\n".encode() + content + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), {"content-type": f"multipart/form-data; boundary={boundary}"}


async def _chunked(body: bytes):
    """The body in 64 KB messages, as a server receives an upload."""
    for start in range(0, len(body), 65536):
        yield body[start:start + 65536]


async def test_r_set_01_logo_form_without_javascript_refuses_a_5_mb_file_with_the_form_message(client, team):
    """Without JavaScript the CSRF token is the form's first field, the 5 MB file after it: the
    CSRF check reads the first megabyte only and the page answers with its form message."""
    csrf = await login(client, team.emails[FULL])
    body, headers = _multipart([("csrf_token", None, csrf.encode()), ("logo", "logo.png", BIG_PNG),
                                ("action", None, b"upload")])
    big = await client.post("/settings/partner/logo", content=_chunked(body), headers=headers)
    assert big.status_code == 400 and 'id="logo-error"' in big.text
    assert "The logo may be at most 200 KB." in big.text
    assert (await read(client, team.tokens[FULL]))["logoUrl"] is None


@pytest.mark.parametrize("fields", [
    [("logo", "logo.png", BIG_PNG), ("csrf_token", None, b"TOKEN"), ("action", None, b"upload")],  # token after 1 MB
    [("csrf_token", None, b"not-the-token"), ("logo", "logo.png", BIG_PNG)],
    [("logo", "logo.png", BIG_PNG)],
])
async def test_r_set_01_a_large_logo_form_without_its_csrf_token_first_is_refused(client, team, fields):
    csrf = await login(client, team.emails[FULL])
    body, headers = _multipart([(n, f, csrf.encode() if c == b"TOKEN" else c) for n, f, c in fields])
    refused = await client.post("/settings/partner/logo", content=_chunked(body), headers=headers)
    assert refused.status_code == 403 and "CSRF" in refused.text


async def test_r_set_01_the_logo_shows_on_the_consent_page_and_my(client, sessionmaker, settings, team):
    from tests import factories
    from tests.pages.test_customer_view import csrf_of, requested_trial

    logo_url = (await _upload(client, team.tokens[FULL], image()))["settings"]["logoUrl"]
    trial_id = await requested_trial(client, sessionmaker, team)
    url = await factories.consent_url(sessionmaker, settings, trial_id, "cio@org.example")
    opened = await client.get(url.replace(settings.base_url, ""))
    page = await client.get(opened.headers["location"])
    assert f'src="{logo_url}"' in page.text
    await client.post(f"/my/consent/{trial_id}", data={"csrf_token": csrf_of(page.text), "go": "accept",
                                                       "grantFullAdmin": "on"})
    assert f'src="{logo_url}"' in (await client.get("/my")).text
