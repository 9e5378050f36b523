"""Partner and customer organizations, the people in them, and who may act on whom (SPEC §1)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import Base, BigId, UTCDateTime


class PartnerOrg(Base):
    """R-ORG-01."""
    __tablename__ = "partner_orgs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    certified: Mapped[bool] = mapped_column(Boolean, default=True)
    tier: Mapped[str] = mapped_column(String(16), default="TIER1")
    distributor_id: Mapped[int | None] = mapped_column(ForeignKey("partner_orgs.id"))
    #: The partner's own organization as a customer org, if any (R-ORG-03).
    own_customer_id: Mapped[int | None] = mapped_column(BigId)
    locale: Mapped[str] = mapped_column(String(8), default="en")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CustomerOrg(Base):
    """R-ORG-02."""
    __tablename__ = "customer_orgs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    business_vertical: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    region: Mapped[str] = mapped_column(String(16))
    #: The admin email the customer was created or found with.
    admin_email: Mapped[str] = mapped_column(String(320))
    managing_partner_id: Mapped[int | None] = mapped_column(ForeignKey("partner_orgs.id"), index=True)
    provisioning_status: Mapped[str] = mapped_column(String(40), default="PROVISIONED")
    provisioning_error: Mapped[str | None] = mapped_column(Text)
    subscription_status: Mapped[str] = mapped_column(String(40), default="ACTIVE")
    locale: Mapped[str] = mapped_column(String(8), default="en")
    #: R-GEO-01: fixed once provisioned.
    region_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    purchased: Mapped[list["PurchasedService"]] = relationship(cascade="all, delete-orphan", lazy="raise")

    __table_args__ = (
        # The customers list's order (server.domain.orgs.customers.page_statement): the page walks it (migration 0010).
        Index("ix_customer_orgs_name_lower", text("lower(name)"), "id"),
        # The home page's "provisioning failed" list reads only these rare rows (migration 0008).
        Index("ix_customer_orgs_unable_to_provision", "id",
              postgresql_where=text("provisioning_status = 'UNABLE_TO_PROVISION'"),
              sqlite_where=text("provisioning_status = 'UNABLE_TO_PROVISION'")),
    )


class PurchasedService(Base):
    __tablename__ = "purchased_services"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer_orgs.id", ondelete="CASCADE"), primary_key=True)
    service: Mapped[str] = mapped_column(String(16), primary_key=True)


class CustomerUser(Base):
    """A person in a customer org (R-ROLE-04). An email belongs to at most one org on the platform."""
    __tablename__ = "customer_users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer_orgs.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16), default="USER")
    locale: Mapped[str] = mapped_column(String(8), default="en")
    #: R-TIME-05: after release the user lives in the free consumer org.
    moved_to_consumer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        # A person by the email of an audit label or a sign-in, compared lower-cased (migration 0019).
        Index("ix_customer_users_email_lower", text("lower(email)")),
    )


class PartnerAccessGrant(Base):
    """R-ROLE-03: a partner's admin access on a customer org."""
    __tablename__ = "partner_access"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer_orgs.id", ondelete="CASCADE"), primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partner_orgs.id", ondelete="CASCADE"), primary_key=True)
    access: Mapped[str] = mapped_column(String(24))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("partner_id", "customer_id", name="uq_partner_access_partner_customer"),)
