"""Every portal string has a Norwegian translation, and the catalog loads without a compile step."""
import sys

from server import i18n
from tests.conftest import ROOT


def test_every_ui_string_is_translated_to_norwegian():
    sys.path.insert(0, str(ROOT / "translations"))
    from update import source_messages

    catalog = i18n.translations("nb")
    untranslated = [m for m in source_messages() if catalog.gettext(m) == m and m not in ("Status", "Basic",
                    "Enterprise", "Webex Assistant", "Canada", "Japan", "Australia", "Singapore", "India", "Start")]
    assert untranslated == []


def test_glossary_words_are_used():
    assert i18n.gettext("nb", "Start new trial") == "Start ny prøveversjon"
    assert i18n.gettext("nb", "Full administrator") == "Fullstendig administrator"
    assert i18n.gettext("nb", "Expired") == "Utløpt"


def test_accept_language_picks_norwegian_for_no_and_nn():
    assert i18n.locale_of({}, "no;q=0.9, en;q=0.5") == "nb"
    assert i18n.locale_of({}, "fr") == "en"
