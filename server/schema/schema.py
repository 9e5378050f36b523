"""Assembles the Strawberry schema from the resolver modules (one per area)."""
from __future__ import annotations

import strawberry
from strawberry.tools import merge_types

from server.resolvers.attention import AttentionQuery
from server.resolvers.audit_log import AuditLogQuery
from server.resolvers.calling import CallingMutation, CallingQuery
from server.resolvers.catalog import CatalogQuery
from server.resolvers.clock import ClockMutation
from server.resolvers.consent import ConsentMutation
from server.resolvers.customers import CustomerQuery
from server.resolvers.devices import DevicesMutation, DevicesQuery
from server.resolvers.node import NodeQuery
from server.resolvers.provisioning import ProvisioningMutation, ProvisioningQuery
from server.resolvers.settings import SettingsMutation, SettingsQuery
from server.resolvers.trials import TrialMutation
from server.resolvers.users import UserMutation, UserQuery
from server.resolvers.viewer import ViewerQuery
from server.resolvers.webhooks import WebhookMutation, WebhookQuery

QUERIES: tuple[type, ...] = (ViewerQuery, NodeQuery, CustomerQuery, CatalogQuery, DevicesQuery, CallingQuery, UserQuery,
                             ProvisioningQuery, AttentionQuery, WebhookQuery, SettingsQuery, AuditLogQuery)
MUTATIONS: tuple[type, ...] = (ClockMutation, TrialMutation, ConsentMutation, DevicesMutation, CallingMutation, UserMutation,
                               ProvisioningMutation, WebhookMutation, SettingsMutation)

Query = merge_types("Query", QUERIES)
Mutation = merge_types("Mutation", MUTATIONS)

schema = strawberry.Schema(query=Query, mutation=Mutation)


def sdl() -> str:
    return schema.as_str() + "\n"
