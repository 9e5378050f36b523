"""Images for the logo tests, made with Pillow."""
from __future__ import annotations

import base64
import io

from PIL import Image


def image(fmt: str = "PNG", size: tuple[int, int] = (120, 40), color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt)
    return out.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
