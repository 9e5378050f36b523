"""R-GEO-01 data residency from the country, and R-NEW-01 supported locations.

Decision (SPEC is silent on the lists): EMEA is every ISO 3166-1 country of Europe, the Middle East
and Africa below; everything else (Americas, Asia-Pacific) is US unless named. Embargoed
countries (refused with UNSUPPORTED_LOCATION) follow the comprehensive US export sanctions list.
"""
from __future__ import annotations

from functools import lru_cache

import pycountry

from server.enums import DataRegion

FIXED: dict[str, DataRegion] = {
    "GB": DataRegion.UK, "CA": DataRegion.CANADA, "JP": DataRegion.JAPAN, "AU": DataRegion.AUSTRALIA,
    "NZ": DataRegion.AUSTRALIA, "SG": DataRegion.SINGAPORE, "SA": DataRegion.SAUDI_ARABIA,
    "AE": DataRegion.UAE, "IN": DataRegion.INDIA,
}

EUROPE = set(
    "AD AL AT AX BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GG GI GR HR HU IE IM IS IT JE LI LT LU LV MC MD ME MK "
    "MT NL NO PL PT RO RS RU SE SI SJ SK SM UA VA XK".split()
)
MIDDLE_EAST = set("AM AZ BH GE IL IQ IR JO KW LB OM PS QA SY TR YE".split())
AFRICA = set(
    "AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR LS LY MA MG ML MR MU MW MZ NA "
    "NE NG RE RW SC SD SH SL SN SO SS ST SZ TD TF TG TN TZ UG YT ZA ZM ZW".split()
)
EMEA = EUROPE | MIDDLE_EAST | AFRICA

#: Comprehensively sanctioned countries: no trials there.
EMBARGOED = {"CU", "IR", "KP", "SY", "RU", "BY"}


def region_for(country_code: str) -> DataRegion:
    code = country_code.upper()
    if code in FIXED:
        return FIXED[code]
    return DataRegion.EU if code in EMEA else DataRegion.US


def is_country(code: str) -> bool:
    return bool(code) and pycountry.countries.get(alpha_2=code.upper()) is not None


def is_supported(code: str) -> bool:
    return code.upper() not in EMBARGOED


@lru_cache
def countries() -> list[tuple[str, str, DataRegion, bool]]:
    """(code, name, region, supported) for every ISO 3166-1 country, sorted by name."""
    rows = [(c.alpha_2, getattr(c, "common_name", None) or c.name, region_for(c.alpha_2), is_supported(c.alpha_2))
            for c in pycountry.countries]
    return sorted(rows, key=lambda r: r[1])
