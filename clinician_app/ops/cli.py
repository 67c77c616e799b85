"""``flask backup`` and ``flask restore`` (clinician_app/ops/backup.py explains the file)."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .backup import BackupError, backup, default_backup_path, progress_printer, restore, restored_url, verify_restored


@click.command("backup")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (must not exist). Default: instance/backups/clinician-<UTC time>.backup")
@click.option("--schema", default=None,
              help="PostgreSQL: dump this schema only (default: the search_path of DATABASE_URL, else everything).")
@with_appcontext
def backup_command(output: Path | None, schema: str | None):
    """Write a consistent copy of the database, encrypted with the key ring (mode 0600)."""
    from clinician_app.core.keyfile import current_keys
    from config import INSTANCE_DIR

    output = output or default_backup_path(INSTANCE_DIR)
    show = progress_printer("backing up") if sys.stderr.isatty() else None
    try:
        info = backup(current_app.config["SQLALCHEMY_DATABASE_URI"], output, current_keys().ring, schema=schema,
                      progress=show)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    if show:
        click.echo(err=True)
    click.echo(f"backup written: {info.path} ({info.backend}{', schema ' + info.schema if info.schema else ''}; "
               f"{info.bytes_in:,} bytes dumped, {info.bytes_out:,} bytes encrypted under data key {info.key_id})")
    click.echo("Keep the key file apart from the backups: the backup can't be read without it.")


@click.command("restore")
@click.argument("backup_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--target-url", required=True,
              help="An empty database to restore into: postgresql+psycopg://.../NEW (made with createdb) "
                   "or sqlite:////path/to/new.db (must not exist).")
@click.option("--verify/--no-verify", default=True, show_default=True,
              help="Read every encrypted field back and verify the audit chain on the restored copy.")
@with_appcontext
def restore_command(backup_file: Path, target_url: str, verify: bool):
    """Restore a backup made by `flask backup` into an empty database, then check it."""
    from clinician_app.core.keyfile import current_keys

    keys = current_keys()
    try:
        header = restore(backup_file, target_url, keys.ring)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored a {header['backend']} backup of {header.get('created_at')} "
               f"(migration {header.get('migration')}{', schema ' + header['schema'] if header.get('schema') else ''})")
    if not verify:
        return
    report = verify_restored(restored_url(target_url, header), keys.ring, keys.audit_key)
    rows = sum(report.tables.values())
    click.echo(f"read back {rows:,} rows in {len(report.tables)} tables; {report.fields_decrypted:,} encrypted fields "
               f"decrypted; audit chain: {report.audit_events:,} events")
    if not report.ok:
        for problem in report.field_problems[:50]:
            click.echo(f"UNREADABLE: {problem}", err=True)
        for problem in report.audit_problems:
            click.echo(f"TAMPERED: {problem}", err=True)
        raise SystemExit(1)
    click.echo("restored copy verified: every field decrypts and the audit chain is intact")
