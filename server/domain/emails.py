"""Email rendering (subject, text, html) per kind and locale. Placeholder until issue 6 adds the
Jinja2 templates under web/templates/emails/ in en and nb."""
from __future__ import annotations

from typing import Any


def render(kind, locale: str, context: dict[str, Any]) -> tuple[str, str, str | None]:
    subject = f"Trialdesk: {kind.value.replace('_', ' ')}"
    lines = [f"{key}: {value}" for key, value in sorted(context.items())]
    return subject, "\n".join(lines) + "\n", None
