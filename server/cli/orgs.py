"""`trialdesk partner|user|customer create`: organizations and their users."""
from __future__ import annotations

from typing import Optional

import typer

from server.cli.common import decode, run_in_transaction
from server.enums import PartnerTier, Role, ServiceType

partner_app = typer.Typer(no_args_is_help=True, help="Partner organizations.")
user_app = typer.Typer(no_args_is_help=True, help="Partner and trials-team users.")
customer_app = typer.Typer(no_args_is_help=True, help="Customer organizations.")


@partner_app.command("create")
def partner_create(name: str = typer.Option(..., "--name"), tier: int = typer.Option(1, "--tier", min=1, max=2),
                   uncertified: bool = typer.Option(False, "--uncertified"),
                   distributor: Optional[str] = typer.Option(None, "--distributor", help="distributor's partner ID")) -> None:
    """Create a partner organization; prints its global ID."""
    from server.domain.orgs import directory
    from server.schema.node import to_global_id

    distributor_id = decode(distributor, "Partner", "--distributor") if distributor else None
    partner = run_in_transaction(lambda db: directory.create_partner(
        db, name, tier=PartnerTier.TIER1 if tier == 1 else PartnerTier.TIER2, certified=not uncertified,
        distributor_id=distributor_id))
    typer.echo(to_global_id("Partner", partner.id))


@user_app.command("create")
def user_create(email: str = typer.Option(..., "--email"), role: list[Role] = typer.Option(..., "--role"),
                partner: Optional[str] = typer.Option(None, "--partner"),
                password: Optional[str] = typer.Option(None, "--password")) -> None:
    """Create a partner user (or, with --role TRIALS_TEAM and no --partner, a trials-team user)."""
    from server.domain.orgs import directory
    from server.schema.node import to_global_id

    partner_id = decode(partner, "Partner", "--partner") if partner else None
    user = run_in_transaction(lambda db: directory.create_user(db, email, role, partner_id=partner_id,
                                                               password=password))
    typer.echo(to_global_id("User", user.id))


@customer_app.command("create")
def customer_create(name: str = typer.Option(..., "--name"), country: str = typer.Option(..., "--country"),
                    admin_email: str = typer.Option(..., "--admin-email"),
                    full_admin: bool = typer.Option(True, "--full-admin/--not-full-admin"),
                    extra_admin: list[str] = typer.Option([], "--extra-admin"),
                    purchased: list[ServiceType] = typer.Option([], "--purchased"),
                    managed_by: Optional[str] = typer.Option(None, "--managed-by"),
                    vertical: str = typer.Option("Other", "--vertical")) -> None:
    """Create an existing customer organization; prints its global ID."""
    from server.domain.orgs import directory
    from server.schema.node import to_global_id

    managed_id = decode(managed_by, "Partner", "--managed-by") if managed_by else None
    customer = run_in_transaction(lambda db: directory.create_customer(
        db, name, country, admin_email, full_admin=full_admin, extra_admins=extra_admin, purchased=purchased,
        managed_by=managed_id, vertical=vertical))
    typer.echo(to_global_id("Customer", customer.id))
