"""R-SET-01: the partner's logo on customer emails, the consent page and /my.

PNG or JPEG only, at most 200 KB and 1024 px on each side. The upload is decoded with Pillow and
re-encoded (PNG stays PNG, JPEG stays JPEG, without metadata); only the re-encoded bytes are stored
and ever served, from our origin, at a URL named by their SHA-256 (`/logos/<hash>.png`), with
`nosniff` and a long cache (a new logo is a new URL). Anything else (an SVG, a "PNG" that is not
one, 5 MB, 4000 px, a decompression bomb) is refused with a message and changes nothing.
"""
from __future__ import annotations

import hashlib
import io
import warnings

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from server import clock
from server.db.models import PartnerSettings
from server.domain.core import audit
from server.domain.core.actor import Actor
from server.domain.core.errors import DomainError
from server.domain.partner_settings import settings as partner_settings
from server.enums import ErrorCode

MAX_BYTES = 200 * 1024
MAX_SIDE = 1024
FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg"}
SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")


def _refused(message: str) -> DomainError:
    return DomainError(ErrorCode.INVALID_INPUT, message, "logo")


def reencode(data: bytes) -> tuple[bytes, str]:
    """(the re-encoded image, its media type), or INVALID_INPUT saying what is wrong."""
    if len(data) > MAX_BYTES:
        raise _refused("The logo may be at most 200 KB.")
    if not data.startswith(SIGNATURES):
        raise _refused("The logo must be a PNG or JPEG image.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=list(FORMATS))
            if image.width > MAX_SIDE or image.height > MAX_SIDE:
                raise _refused(f"The logo may be at most {MAX_SIDE} × {MAX_SIDE} pixels.")
            image.load()
    except DomainError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        raise _refused("The logo must be a PNG or JPEG image.") from None
    out = io.BytesIO()
    if image.format == "PNG":
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        image.save(out, format="PNG", optimize=True)
        return out.getvalue(), FORMATS["PNG"]
    image.convert("RGB").save(out, format="JPEG", quality=88)
    return out.getvalue(), FORMATS["JPEG"]


async def upload(db: AsyncSession, actor: Actor, data: bytes) -> partner_settings.Settings:
    """R-SET-01: the partner's new logo (partner full admins only), audited."""
    partner_id = partner_settings.partner_of(actor)
    stored, media_type = reencode(data)
    row = await partner_settings.row_for_update(db, partner_id)
    before = row.logo_hash
    row.logo, row.logo_type, row.logo_hash = stored, media_type, hashlib.sha256(stored).hexdigest()
    row.updated_at = clock.now()
    audit.record(db, actor, "settings.logo_changed", "PartnerSettings", partner_id, before={"logo": before},
                 after={"logo": row.logo_hash, "type": media_type, "bytes": len(stored)})
    return await partner_settings.of(db, partner_id)


async def remove(db: AsyncSession, actor: Actor) -> partner_settings.Settings:
    partner_id = partner_settings.partner_of(actor)
    row = await partner_settings.row_for_update(db, partner_id)
    if row.logo_hash is not None:
        audit.record(db, actor, "settings.logo_changed", "PartnerSettings", partner_id,
                     before={"logo": row.logo_hash}, after={"logo": None})
        row.logo, row.logo_type, row.logo_hash = None, None, None
        row.updated_at = clock.now()
    return await partner_settings.of(db, partner_id)


async def by_hash(db: AsyncSession, logo_hash: str) -> tuple[bytes, str] | None:
    """The stored logo with this content hash (public: it is in customer emails), or None."""
    found = (await db.execute(select(PartnerSettings.logo, PartnerSettings.logo_type)
                              .where(PartnerSettings.logo_hash == logo_hash).limit(1))).first()
    return None if found is None or found[0] is None else (found[0], found[1])
