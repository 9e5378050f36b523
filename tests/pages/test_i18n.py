"""Every portal string has a Norwegian translation, and the catalog loads without a compile step."""
import sys

from server import i18n
from tests.conftest import ROOT


def test_every_ui_string_is_translated_to_norwegian():
    sys.path.insert(0, str(ROOT / "translations"))
    from update import source_messages

    catalog = i18n.translations("nb")
    same = ("Status", "Basic", "Enterprise", "Webex Assistant", "Canada", "Japan", "Australia", "Singapore", "India",
            "Start", "Webhooks", "Logo")
    untranslated = [m for m in source_messages() if isinstance(m, str) and catalog.gettext(m) == m and m not in same]
    plurals = [m for m in source_messages() if isinstance(m, tuple)]
    untranslated += [m for m in plurals if catalog.ngettext(*m, 1) == m[0] or catalog.ngettext(*m, 2) == m[1]]
    assert plurals and untranslated == []


def test_plurals_follow_the_count():
    from server.pages import rendering

    rendering._locale.set("nb")
    one, two = (rendering.ngettext("%(count)s customer", "%(count)s customers", n, count=n) for n in (1, 2))
    assert (one, two) == ("1 kunde", "2 kunder")
    rendering._locale.set("en")
    assert rendering.ngettext("%(days)s day left", "%(days)s days left", 1, days=1) == "1 day left"


def test_glossary_words_are_used():
    assert i18n.gettext("nb", "Start new trial") == "Start ny prøveversjon"
    assert i18n.gettext("nb", "Full administrator") == "Fullstendig administrator"
    assert i18n.gettext("nb", "Expired") == "Utløpt"


def test_accept_language_picks_norwegian_for_no_and_nn():
    assert i18n.locale_of({}, "no;q=0.9, en;q=0.5") == "nb"
    assert i18n.locale_of({}, "fr") == "en"
