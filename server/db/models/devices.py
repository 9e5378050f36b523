"""Device catalog, shipments and their items (SPEC §6)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, BigId, Json, UTCDateTime


class DeviceModel(Base):
    """The catalog; loaded by a migration and editable as data, not code."""
    __tablename__ = "device_models"

    model: Mapped[str] = mapped_column(String(80), primary_key=True)
    type: Mapped[str] = mapped_column(String(16), index=True)
    max_quantity: Mapped[int] = mapped_column(Integer)
    needs_poe: Mapped[bool] = mapped_column(Boolean, default=False)


class Shipment(Base):
    """R-DEV-01/02: one per device type per trial, enforced by a unique constraint."""
    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer_orgs.id", ondelete="CASCADE"), index=True)
    device_type: Mapped[str] = mapped_column(String(16))
    model: Mapped[str] = mapped_column(String(80))
    quantity: Mapped[int] = mapped_column(Integer)
    poe_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(24), index=True)
    demo_order_number: Mapped[str | None] = mapped_column(String(64), index=True)
    country: Mapped[str] = mapped_column(String(2))
    carrier: Mapped[str | None] = mapped_column(String(40))
    shipped_on: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    return_by: Mapped[date | None] = mapped_column(Date)
    #: R-RMA-02: what came back that was not shipped, and what is still missing.
    mismatch: Mapped[dict | None] = mapped_column(Json)
    return_labels_requested: Mapped[int] = mapped_column(Integer, default=0)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: R-DEV-01/02: where the devices are delivered (in `country`) and who receives them (phone in E.164);
    #: all set or all null (server.domain.devices.delivery).
    address_line1: Mapped[str | None] = mapped_column(String(100))
    address_line2: Mapped[str | None] = mapped_column(String(100))
    address_city: Mapped[str | None] = mapped_column(String(100))
    address_postal_code: Mapped[str | None] = mapped_column(String(20))
    address_region: Mapped[str | None] = mapped_column(String(10))
    contact_name: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (UniqueConstraint("trial_id", "device_type", name="uq_shipments_trial_device_type"),)


class ShipmentItem(Base):
    __tablename__ = "shipment_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(80))
    serial_number: Mapped[str | None] = mapped_column(String(64), unique=True)
    returned: Mapped[bool] = mapped_column(Boolean, default=False)
