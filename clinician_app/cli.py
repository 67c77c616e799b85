"""Operations commands: ``flask --app wsgi <command>``.

Each command is one transaction: it commits once at the end, or not at all.
"""
from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from .extensions import db


def register(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(audit_cli)
    app.cli.add_command(users_cli)
    from .keys_cli import keys_cli

    app.cli.add_command(keys_cli)
    from .ops.cli import backup_command, restore_command

    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)


@click.command("init-db")
def init_db():
    """Build or upgrade the schema by running every migration."""
    from flask_migrate import upgrade

    upgrade()
    click.echo("database is at the latest migration")


@click.command("seed-demo")
@click.option("--json", "as_json", is_flag=True, help="Print the demo sign-ins as JSON.")
def seed_demo_command(as_json: bool):
    """Create demo agencies and a user of every role (safe to run again)."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("seed-demo is refused in production")
    from .demo import seed_demo

    result = seed_demo()
    db.session.commit()
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo("Demo sign-ins (password, then the 6-digit code from an authenticator app given the TOTP secret):")
    click.echo(f"{'username':<24} {'agency':<6} {'roles':<16} {'password':<26} totp secret")
    for user in result["users"]:
        click.echo(f"{user['username']:<24} {user['agency']:<6} {','.join(user['roles']):<16} {user['password']:<26} {user['totp_secret']}")
    click.echo("Current codes: python -c \"import pyotp,sys; print(pyotp.TOTP(sys.argv[1]).now())\" SECRET")
    if result.get("api_clients"):
        click.echo("Demo CAD API tokens (Authorization: Bearer TOKEN; see the README's CAD API section):")
        for client in result["api_clients"]:
            click.echo(f"{client['agency']:<6} {client['token']}")


@click.command("create-user")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Name as colleagues know it.")
@click.option("--agency", "agency_code", required=True, help="Agency short code, e.g. CPD.")
@click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
@click.option("--email", default=None)
def create_user_command(username, display_name, agency_code, roles, email):
    """Create an account; prints a temporary password that must be changed at first sign-in."""
    from .agencies.models import Agency
    from .auth import services
    from .core.errors import ValidationError

    agency = db.session.execute(select(Agency).where(Agency.code == agency_code.upper())).scalar_one_or_none()
    if agency is None:
        raise click.ClickException(f"no agency with code {agency_code!r}")
    try:
        user, password = services.create_user(None, services.NewUser(
            username=username, display_name=display_name, email=email, agency_id=agency.id, roles=list(roles)))
    except ValidationError as exc:
        raise click.ClickException("; ".join(f"{k}: {' '.join(v)}" for k, v in exc.fields.items())) from exc
    db.session.commit()
    click.echo(f"created {user.username} ({', '.join(user.roles)}) in {agency.code}")
    click.echo(f"temporary password (shown once; must be changed at first sign-in): {password}")


audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
def audit_verify():
    """Check the audit chain; exits 1 and names each bad event if it was tampered with."""
    from .core.audit import verify_chain
    from .core.keyfile import current_keys

    result = verify_chain(db.session, current_keys().audit_key)
    if result.ok:
        click.echo(f"audit chain intact: {result.checked} events verified")
        return
    for problem in result.problems:
        click.echo(f"TAMPERED: {problem}", err=True)
    raise SystemExit(1)


users_cli = AppGroup("users", help="Account maintenance.")


@users_cli.command("disable-inactive")
@click.option("--days", type=int, default=None, help="Default: INACTIVE_ACCOUNT_DAYS (90).")
def disable_inactive(days):
    """Disable accounts unused for 90 days (run daily from cron or the scheduler)."""
    from .auth.services import disable_inactive_accounts

    disabled = disable_inactive_accounts(days)
    db.session.commit()
    click.echo(f"disabled {len(disabled)} inactive account(s)")
