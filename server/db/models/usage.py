"""Usage reported by the platform and what partners read of it (SPEC §10).

`usage_user_days` holds one row per (org, day, service, user): on PostgreSQL a table partitioned by
month (declarative RANGE partitioning on `day`; the partitions are created ahead by the worker and
dropped whole by retention, server.domain.usage.storage), on SQLite a plain table. The other tables
are rollups kept in the ingest's own transaction, so reads never scan the per-user days:
`usage_daily_totals` (per org, service, day: active users, events, minutes; kept after release),
`usage_last_active` (per org and service: each user's last day with activity, one JSON object) and
`usage_assigned_licenses` (per org, service, day). `trial_adoption_health` is each trial's health as
the daily evaluation last recorded it (R-USE-07); `usage_runs` marks the daily jobs done.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, BigId, Json

Count = BigInteger().with_variant(Integer(), "sqlite")


class UsageUserDay(Base):
    """R-USE-01: one user's events and minutes on one service on one day (UTC)."""
    __tablename__ = "usage_user_days"
    __table_args__ = {"postgresql_partition_by": "RANGE (day)"}

    org_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    service: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    events: Mapped[int] = mapped_column(Count)
    minutes: Mapped[int] = mapped_column(Count)


class UsageDailyTotal(Base):
    """Per org, service and day: distinct active users, events and minutes (kept on release, R-USE-08)."""
    __tablename__ = "usage_daily_totals"

    org_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    service: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    active_users: Mapped[int] = mapped_column(Integer)
    events: Mapped[int] = mapped_column(Count)
    minutes: Mapped[int] = mapped_column(Count)


class UsageLastActive(Base):
    """Per org and service: each user's last day with events or minutes above 0, as one JSON object
    {user key: the day as a number of days after DAY_ZERO} (server.domain.usage.storage: an ingest
    rewrites one row per org and service of its batch, not one per user; migration 0020)."""
    __tablename__ = "usage_last_active"

    org_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    service: Mapped[str] = mapped_column(String(16), primary_key=True)
    days: Mapped[dict] = mapped_column(Json)


class UsageAssignedLicenses(Base):
    """R-USE-01: per org, service and day, how many licenses are assigned to users."""
    __tablename__ = "usage_assigned_licenses"

    org_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    service: Mapped[str] = mapped_column(String(16), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    assigned: Mapped[int] = mapped_column(Integer)


class TrialAdoptionHealth(Base):
    """R-USE-07: the health the daily evaluation last recorded for a trial (a change is an event), and
    the day it may next change with no new usage and no change to the trial (None: only those)."""
    __tablename__ = "trial_adoption_health"

    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id", ondelete="CASCADE"), primary_key=True)
    health: Mapped[str | None] = mapped_column(String(16))
    evaluated_on: Mapped[date] = mapped_column(Date)
    next_check_on: Mapped[date | None] = mapped_column(Date, index=True)


class UsageChangedOrg(Base):
    """An org whose usage an ingest changed since the last daily evaluation (R-USE-07)."""
    __tablename__ = "usage_changed_orgs"

    org_id: Mapped[int] = mapped_column(BigId, primary_key=True)


class UsageRun(Base):
    """A daily usage job (partitions and retention, the adoption evaluation) and the last day it ran."""
    __tablename__ = "usage_runs"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    day: Mapped[date] = mapped_column(Date)
