"""Words for the API's enum values, as people read them (translated through the catalog)."""
from __future__ import annotations

LABELS = {
    # Services and devices
    "MESSAGING": "Messaging", "MEETINGS": "Meetings", "CALLING": "Calling", "DEVICES": "Devices",
    "PHONE": "Phones", "DESK_DEVICE": "Desk devices", "ROOM_DEVICE": "Room devices", "HEADSET": "Headsets",
    "BASIC": "Basic", "ENTERPRISE": "Enterprise", "MEETINGS_1000": "1000-participant meetings",
    "WEBEX_ASSISTANT": "Webex Assistant",
    "CCP": "Cloud Connected PSTN provider (numbers ordered later)", "PARTNER_DIDS": "Numbers (DIDs) from the partner",
    "CALLING_PLAN": "Built-in calling plan (at most 10 new numbers)",
    # Trial states
    "PENDING_CONSENT": "Trial pending customer consent", "PENDING_PROVISIONING": "Pending provisioning",
    "ACTIVE": "Active", "EXPIRED": "Expired", "CONVERTED": "Converted", "CANCELLED": "Cancelled",
    "RELEASED": "Released",
    # R-TIME-07 provisioning
    "PROVISIONED": "Provisioned", "PROVISIONING": "Provisioning", "MANUAL_PROVISIONING": "Manual provisioning",
    "AWAITING_PROVISIONING_DETAILS": "Awaiting provisioning details", "UNABLE_TO_PROVISION": "Unable to provision",
    # R-TIME-07 subscription
    "TRIAL_ACTIVE": "Trial active", "TRIAL_EXPIRING_30": "Trial expiring within 30 days",
    "TRIAL_EXPIRING_60": "Trial expiring within 60 days", "TRIAL_EXPIRED": "Trial expired", "SUSPENDED": "Suspended",
    # Roles (R-ROLE-01, R-ROLE-05, R-USE-01)
    "PARTNER_FULL_ADMIN": "Partner full admin", "PARTNER_ADMIN": "Partner admin",
    "SALES_FULL_ADMIN": "Sales full admin", "SALES_ADMIN": "Sales admin", "READ_ONLY": "Read-only",
    "TRIALS_TEAM": "Trials team", "PLATFORM": "Platform",
    # Webhook deliveries
    "FAILED": "Failed",
    # Partner access (R-ROLE-03)
    "FULL_ADMIN": "Full administrator", "PROVISIONING_ADMIN": "Provisioning administrator",
    # Shipments
    "REQUESTED": "Requested", "SHIPPED": "Shipped", "DELIVERED": "Delivered", "RETURN_DUE": "Return due",
    "RETURNED": "Returned", "RETURN_MISMATCH": "Return mismatch", "OVERDUE": "Overdue",
    "PENDING": "Pending", "APPROVED": "Approved", "DENIED": "Denied",
    "ASSIGNED": "Assigned", "RESERVED": "Reserved",
    # Device skip reasons (R-DEV-01)
    "REGISTRATION_LICENSES_ONLY": "Device registration licenses only", "OWN_DEVICES": "Customer's own devices",
    "EXISTING_DEVICES": "Existing devices", "TEST_SETUP": "A test setup",
    # Regions (R-GEO-01)
    "US": "United States", "EU": "European Union", "UK": "United Kingdom", "CANADA": "Canada", "JAPAN": "Japan",
    "AUSTRALIA": "Australia", "SINGAPORE": "Singapore", "SAUDI_ARABIA": "Saudi Arabia", "UAE": "United Arab Emirates",
    "INDIA": "India",
    # Partner roles (R-ROLE-01)
    "PARTNER_FULL_ADMIN": "Partner full admin", "PARTNER_ADMIN": "Partner admin", "SALES_FULL_ADMIN": "Sales full admin",
    "SALES_ADMIN": "Sales admin", "READ_ONLY": "Read-only",
    # Emails with a partner copy (R-SET-01)
    "warning_partner": "Trial ending soon", "expired_partner": "Trial expired", "purchase_interest": "Interested in buying",
    "trial_cancelled": "Trial cancelled", "converted": "Converted to paid",
    "device_extension_decided": "Device extension decided", "return_overdue": "Device return overdue",
}

TONE = {
    "TRIAL_EXPIRED": "expired", "EXPIRED": "expired", "UNABLE_TO_PROVISION": "expired", "SUSPENDED": "expired",
    "OVERDUE": "expired", "RETURN_MISMATCH": "expired", "CANCELLED": "", "RELEASED": "",
    "TRIAL_EXPIRING_30": "warn", "PENDING_CONSENT": "warn", "PENDING_PROVISIONING": "warn", "PROVISIONING": "warn",
    "AWAITING_PROVISIONING_DETAILS": "warn", "MANUAL_PROVISIONING": "warn", "RETURN_DUE": "warn", "PENDING": "warn",
    "ACTIVE": "ok", "TRIAL_ACTIVE": "ok", "PROVISIONED": "ok", "TRIAL_EXPIRING_60": "info", "CONVERTED": "ok",
}


def label(value: str | None) -> str:
    """The English label of an enum value (translate it with `_`)."""
    return LABELS.get(value or "", value or "")


def tone(value: str | None) -> str:
    return TONE.get(value or "", "")
