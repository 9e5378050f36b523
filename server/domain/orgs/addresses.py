"""Postal addresses and phone numbers of a country, checked one way for every place that takes them:
a calling location's address (R-SVC-03) and where trial devices are delivered, with who receives
them (R-DEV-01, R-DEV-02).

Decisions:
- line1, city and postal code are required (at most 100, 100 and 20 characters); a postal code must
  match the country's form where we know it (`POSTAL_CODES`); a region is required where the post uses
  one (`ADDRESS_REGION_REQUIRED`) and, when given, must be one of the country's ISO 3166-2
  subdivisions (code like "CA" / "US-CA" or name); stored as the ISO code.
- Phone numbers are parsed with the `phonenumbers` library, the country as default region (so a
  national number needs no prefix), and stored in E.164.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
import pycountry

from server.domain.core.errors import DomainError, raise_all
from server.domain.orgs import geography
from server.enums import ErrorCode

ADDRESS_REGION_REQUIRED = {"US", "CA", "AU", "BR", "MX", "IN", "CN", "JP", "AR", "MY"}
POSTAL_CODES = {
    "US": r"\d{5}(-\d{4})?", "CA": r"[A-Z]\d[A-Z] ?\d[A-Z]\d", "GB": r"[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}",
    "NO": r"\d{4}", "DK": r"\d{4}", "SE": r"\d{3} ?\d{2}", "DE": r"\d{5}", "FR": r"\d{5}", "NL": r"\d{4} ?[A-Z]{2}",
    "AU": r"\d{4}", "NZ": r"\d{4}", "JP": r"\d{3}-?\d{4}", "IN": r"\d{6}",
}


def _subdivision(country: str, region: str) -> str | None:
    wanted = region.strip().upper()
    for sub in pycountry.subdivisions.get(country_code=country) or []:
        short = sub.code.split("-", 1)[1]
        if wanted in (sub.code.upper(), short.upper(), sub.name.upper()):
            return sub.code
    return None


@dataclass
class Address:
    line1: str
    city: str
    postal_code: str
    country: str
    line2: str | None = None
    region: str | None = None


def check_address(address: Address, at: list[str] | None = None) -> Address:
    """Postal address per country (pycountry subdivisions where they exist); all problems at once,
    each on its field under `at` (["address"] unless told)."""
    at = ["address"] if at is None else at
    country = (address.country or "").strip().upper()
    if not geography.is_country(country):
        raise DomainError(ErrorCode.INVALID_COUNTRY, f"'{address.country}' is not an ISO 3166-1 alpha-2 country code.",
                          [*at, "country"])
    errors: list[DomainError] = []
    clean = {k: (getattr(address, k) or "").strip() for k in ("line1", "line2", "city", "postal_code", "region")}
    for key, label, field in (("line1", "street address", "line1"), ("city", "city", "city"),
                              ("postal_code", "postal code", "postalCode")):
        if not clean[key] or len(clean[key]) > (20 if key == "postal_code" else 100):
            errors.append(DomainError(ErrorCode.INVALID_ADDRESS, f"Enter the {label}.", [*at, field]))
    if len(clean["line2"]) > 100:
        errors.append(DomainError(ErrorCode.INVALID_ADDRESS, "Address line 2 is at most 100 characters.", [*at, "line2"]))
    pattern = POSTAL_CODES.get(country)
    if clean["postal_code"] and pattern and not re.fullmatch(pattern, clean["postal_code"].upper()):
        errors.append(DomainError(ErrorCode.INVALID_ADDRESS, f"'{clean['postal_code']}' is not a postal code of {country}.",
                                  [*at, "postalCode"]))
    region = None
    if clean["region"]:
        region = _subdivision(country, clean["region"])
        if region is None:
            errors.append(DomainError(ErrorCode.INVALID_ADDRESS, f"'{clean['region']}' is not a region of {country}.",
                                      [*at, "region"]))
    elif country in ADDRESS_REGION_REQUIRED:
        errors.append(DomainError(ErrorCode.INVALID_ADDRESS, f"Addresses in {country} need a state or province.",
                                  [*at, "region"]))
    raise_all(errors)
    return Address(line1=clean["line1"], line2=clean["line2"] or None, city=clean["city"],
                   postal_code=clean["postal_code"].upper(), region=region, country=country)


def e164(raw: str, country: str, field: str | list[str], *, of_country: str | None = None) -> str:
    """A phone number in E.164 (`country`: the default region for a number typed without +prefix;
    `of_country`: the number must belong to that country), or INVALID_PHONE_NUMBER on `field`."""
    try:
        parsed = phonenumbers.parse(str(raw or ""), country)
    except phonenumbers.NumberParseException:
        raise DomainError(ErrorCode.INVALID_PHONE_NUMBER, f"'{raw}' is not a phone number.", field) from None
    if not phonenumbers.is_valid_number(parsed):
        raise DomainError(ErrorCode.INVALID_PHONE_NUMBER, f"'{raw}' is not a valid phone number.", field)
    if of_country and phonenumbers.region_code_for_number(parsed) != of_country:
        raise DomainError(ErrorCode.INVALID_PHONE_NUMBER, f"'{raw}' is not a number of {of_country}, the location's "
                          "country.", field)
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
