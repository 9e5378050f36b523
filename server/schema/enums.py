"""The GraphQL enums, generated from server.enums so there is one list of values."""
import strawberry

from server import enums as e

PartnerTier = strawberry.enum(e.PartnerTier)
Role = strawberry.enum(e.Role)
AuditActorKind = strawberry.enum(e.AuditActorKind)
DataRegion = strawberry.enum(e.DataRegion)
PartnerAccess = strawberry.enum(e.PartnerAccess)
ProvisioningStatus = strawberry.enum(e.ProvisioningStatus)
SubscriptionStatus = strawberry.enum(e.SubscriptionStatus)
TrialState = strawberry.enum(e.TrialState)
ServiceType = strawberry.enum(e.ServiceType)
MeetingsEdition = strawberry.enum(e.MeetingsEdition)
MeetingsFeature = strawberry.enum(e.MeetingsFeature)
PstnOption = strawberry.enum(e.PstnOption)
DeviceType = strawberry.enum(e.DeviceType)
DeviceSkip = strawberry.enum(e.DeviceSkip)
ShipmentStatus = strawberry.enum(e.ShipmentStatus)
ExtensionStatus = strawberry.enum(e.ExtensionStatus)
NumberStatus = strawberry.enum(e.NumberStatus)
ErrorCode = strawberry.enum(e.ErrorCode)
CustomerRole = strawberry.enum(e.CustomerRole)
