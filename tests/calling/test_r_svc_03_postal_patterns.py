"""R-SVC-03 (and R-DEV-01's delivery address, the same check): a postal code must have its country's
form where the domain knows it (`addresses.POSTAL_CODES`). Pure calls of `check_address`, one good and
one bad code per country of the table, so no country's entry can be renamed or dropped unseen."""
from __future__ import annotations

import pytest

from server.domain.core.errors import DomainError
from server.domain.orgs.addresses import POSTAL_CODES, Address, check_address
from server.enums import ErrorCode

#: country: (a code of its form, one of another form), region where the country needs one.
SAMPLES = {
    "US": ("94105", "9410", "CA"), "CA": ("K1A 0B1", "12345", "ON"), "GB": ("SW1A 1AA", "12345", None),
    "NO": ("0154", "01545", None), "DK": ("1050", "10500", None), "SE": ("114 55", "1145", None),
    "DE": ("10115", "1011", None), "FR": ("75001", "7500", None), "NL": ("1012 JS", "10123", None),
    "AU": ("2000", "20000", "NSW"), "NZ": ("6011", "60110", None), "JP": ("100-0001", "10000", "13"),
    "IN": ("110001", "11000", "DL"),
}


def _address(country: str, postal_code: str, region: str | None) -> Address:
    return Address(line1="1 Main Street", city="Capital", postal_code=postal_code, country=country, region=region)


def test_r_svc_03_the_table_is_the_sampled_countries():
    assert set(POSTAL_CODES) == set(SAMPLES)


@pytest.mark.parametrize("country", sorted(SAMPLES))
def test_r_svc_03_a_postal_code_of_another_form_is_refused_on_its_field(country):
    """Kills (make mutate, fresh run): a country's key in POSTAL_CODES changed (e.g. "DK" -> "XXDKXX":
    Denmark's codes then go unchecked, and a five-digit one is accepted)."""
    good, bad, region = SAMPLES[country]
    assert check_address(_address(country, good, region)).postal_code == good
    with pytest.raises(DomainError) as raised:
        check_address(_address(country, bad, region))
    assert (raised.value.code, raised.value.field) == (ErrorCode.INVALID_ADDRESS, ["address", "postalCode"])
    assert raised.value.message == f"'{bad}' is not a postal code of {country}."
