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
    # Customer emails a partner may word (R-SET-02)
    "welcome": "Welcome", "consent_request": "Consent request", "trial_started": "Trial started",
    "warning_customer": "Trial ending soon (customer)", "expired_customer": "Trial expired (customer)",
    "access_ended": "Trial services ended",
    # Adoption (R-USE-04)
    "NOT_STARTED": "Not started", "HEALTHY": "Healthy", "LOW": "Low adoption", "INACTIVE": "Inactive",
    # Customer list orders
    "NAME": "Name", "DAYS_LEFT": "Days left", "ADOPTION": "Adoption, least healthy first",
}

TONE = {
    "INACTIVE": "expired", "LOW": "warn", "NOT_STARTED": "info", "HEALTHY": "ok",
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


#: R-EX-02 / R-SVC-06: why a service cannot be tried (AvailableServices' reasons), translated on the services step.
AVAILABILITY_REASONS = ("The customer has purchased this service.", "This partner already has it in a pending or active trial.",
                        "Another partner has it in a pending or active trial for this customer.",
                        "Not available for this organization.")


#: What happened, as a sentence's predicate (SPEC §9's history, in the reader's language): it reads "WHO WHAT", never
#: `trial.edited`. An action not listed reads as the generic sentence (`changed …`).
AUDIT_ACTIONS = {
    "customer.created": "created the customer", "partner.created": "created the partner",
    "trial.started": "started the trial", "trial.edited": "edited the trial", "trial.updated": "edited the trial",
    "trial.extended": "extended the trial by %(days)s days", "trial.converted": "converted the trial to paid",
    "trial.cancelled": "cancelled the trial", "trial.provisioned": "provisioned the trial's services",
    "trial.expiring_soon": "sent the 7-day warning emails", "trial.warning_sent": "sent the 7-day warning emails",
    "trial.expired": "ended the trial: grace period started", "trial.adoption_changed": "recorded a change in adoption", "trial.released": "released the organization",
    "trial.users_access_ended": "told the users their access ended", "trial.purchase_interest": "said they are interested in buying",
    "trial.devices_skipped": "skipped devices", "trial.consent_requested": "asked the customer for consent",
    "trial.consent_accepted": "accepted the trial request", "trial.consent_declined": "declined the trial request",
    "trial.consent_expired": "let the trial request lapse",
    "consent.requested": "sent the consent request", "consent.resent": "sent the consent request again",
    "consent.request_withdrawn": "withdrew the trial request", "consent.consent_accepted": "accepted the trial request",
    "consent.consent_declined": "declined the trial request", "consent.consent_timed_out": "let the trial request lapse",
    "customer.provisioning_failed": "could not provision the customer", "customer.provisioning_retried": "retried provisioning",
    "partner_access.granted": "granted the partner access",
    "shipment.requested": "requested a device shipment", "shipment.recorded": "recorded a device shipment",
    "shipment.withdrawn": "withdrew a device shipment", "shipment.return_label_requested": "asked for a return label",
    "shipment.return_started": "started the device return", "shipment.return_due": "flagged the device return as due",
    "shipment.return_recorded": "recorded a device return", "return.recorded": "recorded a device return",
    "shipment.overdue": "flagged the device return as overdue", "return.overdue": "flagged the device return as overdue",
    "shipment.due_date_extended": "moved the device due date", "device_extension.requested": "asked to keep the devices longer",
    "device_extension.decided": "decided the device extension request",
    "location.added": "added a calling location", "numbers.assigned": "assigned phone numbers",
    "numbers.reserved": "kept the phone numbers reserved", "numbers.released": "released the phone numbers",
    "calling.numbers_released": "released the phone numbers",
    # The partner's own people, tokens, webhooks and settings (R-AUDIT-01)
    "session.signed_in": "signed in",
    "session.sign_in_failed": "failed to sign in",
    "token.created": "created an API token",
    "token.revoked": "revoked an API token",
    "user.created": "added a user",
    "user.roles_changed": "changed a user's roles",
    "user.password_set": "set a password",
    "user.password_changed": "changed a password",
    "user.deactivated": "deactivated a user",
    "webhook.created": "added a webhook endpoint",
    "webhook.updated": "changed a webhook endpoint",
    "webhook.deleted": "deleted a webhook endpoint",
    "webhook.disabled": "disabled a webhook endpoint",
    "webhook.secret_rotated": "rotated a webhook secret",
    "webhook.test": "sent a test webhook",
    "webhook.redelivered": "sent a webhook again",
    "settings.updated": "changed the partner settings",
    "settings.logo_changed": "changed the logo",
    "settings.email_text_changed": "changed an email text",
}
#: Actors who are no person (AuditEvent.actorKind), and how a person is named (SPEC §9's history, read
#: by people: "Sales admin Kari Nordmann", never `partner_user:kari@…`).
ACTOR_KINDS = {"SYSTEM": "Trialdesk (automatically)", "ANONYMOUS": "Someone signed out", "API_TOKEN": "An API token"}
PERSON_WITH_ROLE = "%(role)s %(name)s"
CUSTOMER_ADMIN = "Customer administrator %(name)s"
GENERIC_ACTION = "changed the %(subject)s"


def audit_words(event: dict) -> tuple[str, dict[str, str], str]:
    """(who, who's values, what) of an audit event in English: translate `who` with its values (the
    role's words translated first, `label`) and `what` (its %(days)s filled by the caller)."""
    what = AUDIT_ACTIONS.get(event.get("action") or "", GENERIC_ACTION)
    kind, name, role = event.get("actorKind") or "ANONYMOUS", event.get("actorName"), event.get("actorRole")
    if kind in ACTOR_KINDS or not name:
        return ACTOR_KINDS.get(kind, ACTOR_KINDS["ANONYMOUS"]), {}, what
    if kind == "CUSTOMER_ADMIN":
        return CUSTOMER_ADMIN, {"name": name}, what
    return (PERSON_WITH_ROLE, {"role": label(role), "name": name}, what) if role else ("%(name)s", {"name": name}, what)
