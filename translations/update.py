"""Refresh `nb/LC_MESSAGES/messages.po` from the portal's sources (`uv run python translations/update.py`).

Extracts `_()` / `t()` strings and `ngettext()` plurals from page modules and templates (babel.cfg), adds the enum labels and
error messages of `server.pages`, keeps every existing translation, and merges new ones from a
JSON file of {"English": "Norsk"} (plurals: {"singular": ["en", "flere"]}) given as the first argument. Prints what is still untranslated.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "translations" / "nb" / "LC_MESSAGES" / "messages.po"


def source_messages() -> list[str]:
    from babel.messages.frontend import parse_mapping_cfg

    with open(ROOT / "translations" / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = [m[2] for m in extract_from_dir(str(ROOT), method_map, options_map, keywords={"_": None, "t": None, "ngettext": (1, 2)})]
    from server.pages import delivery_form, labels, rendering, timeline, wizard_form

    found += list(labels.AUDIT_ACTIONS.values()) + list(labels.ACTOR_KINDS.values()) + [labels.GENERIC_ACTION]
    found += [labels.CUSTOMER_ADMIN, *labels.AVAILABILITY_REASONS]  # (PERSON_WITH_ROLE is word order only: "%(role)s %(name)s" in both)
    found += list(labels.LABELS.values()) + list(rendering.ERROR_MESSAGES.values()) + list(timeline.LABELS.values())
    found += [message for fields in wizard_form.REQUIRED.values() for _, message in fields]
    found += [message for _, message in delivery_form.REQUIRED] + [wizard_form.POE_MESSAGE, wizard_form.LIMIT_MESSAGE]
    from server.domain.trials.options import BUSINESS_VERTICALS

    found += list(BUSINESS_VERTICALS)  # shown translated; the API keeps the English value
    return list(dict.fromkeys(m for m in found if (isinstance(m, str) and m) or (isinstance(m, tuple) and all(m))))


def main() -> None:
    old = read_po(PO.open("rb"), locale="nb") if PO.exists() else Catalog(locale="nb")
    new_words = json.loads(Path(sys.argv[1]).read_text()) if len(sys.argv) > 1 else {}
    catalog = Catalog(locale="nb", project="Trialdesk", charset="utf-8", fuzzy=False)
    missing = []
    for msgid in source_messages():  # a str, or (singular, plural) from ngettext
        known = old.get(msgid[0] if isinstance(msgid, tuple) else msgid)
        given = new_words.get(msgid[0] if isinstance(msgid, tuple) else msgid)
        text = (tuple(given) if isinstance(msgid, tuple) and given else given) or (known.string if known else "")
        if isinstance(msgid, tuple) and not isinstance(text, tuple):
            text = ("", "")
        catalog.add(msgid, text)
        if not text or (isinstance(text, tuple) and not all(text)):
            missing.append(msgid)
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as out:
        write_po(out, catalog, omit_header=False, no_location=True, width=120)
    print("\n".join(map(str, missing)) if missing else "all translated", file=sys.stderr)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
