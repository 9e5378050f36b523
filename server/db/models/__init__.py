"""All models, imported here so that metadata is complete for Alembic and create_all."""
from server.db.base import Base
from server.db.models.calling import Location, PhoneNumber
from server.db.models.devices import DeviceModel, Shipment, ShipmentItem
from server.db.models.operations import AuditEvent, ClockState, Deadline, IdempotencyKey, OutboxEmail
from server.db.models.settings import PartnerEmailText, PartnerSettings
from server.db.models.organizations import CustomerOrg, CustomerUser, PartnerAccessGrant, PartnerOrg, PurchasedService
from server.db.models.trials import ConsentRequest, DeviceExtensionRequest, Trial, TrialService
from server.db.models.usage import (
    TrialAdoptionHealth, UsageAssignedLicenses, UsageChangedOrg, UsageDailyTotal, UsageLastActive, UsageRun,
    UsageUserDay,
)
from server.db.models.users import ApiToken, LoginAttempt, RoleGrant, UsedToken, User, WebSession
from server.db.models.webhooks import WebhookDelivery, WebhookEndpoint

__all__ = [
    "Base", "Location", "PhoneNumber", "DeviceModel", "Shipment", "ShipmentItem", "AuditEvent", "ClockState",
    "Deadline", "IdempotencyKey", "OutboxEmail", "CustomerOrg", "CustomerUser", "PartnerAccessGrant", "PartnerOrg",
    "PurchasedService", "ConsentRequest", "DeviceExtensionRequest", "Trial", "TrialService", "ApiToken",
    "LoginAttempt", "RoleGrant", "UsedToken", "User", "WebSession", "WebhookDelivery", "WebhookEndpoint",
    "TrialAdoptionHealth", "UsageAssignedLicenses", "UsageDailyTotal", "UsageRun", "UsageUserDay",
    "UsageLastActive", "UsageChangedOrg",
    "PartnerEmailText", "PartnerSettings",
]
