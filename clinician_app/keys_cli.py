"""``flask --app wsgi keys ...``: field-encryption key status, rotation, retirement and
KEK re-wrap (SECURITY.md promise 11). The work is in ``core/rotation.py``; this module
holds the operator's side: key file changes, progress, messages and audit events.

Key file changes are made on a copy of the running key ring, saved atomically, and only
then swapped in, so a failed save leaves the keys in use as they were.
"""
from __future__ import annotations

import signal
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import replace

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy.exc import SQLAlchemyError

from .core import audit, crypto
from .core.keyfile import AppKeys, KeyConfigError, current_keys
from .core.rotation import OTHER, RotationError, RotationResult, count_pending, key_usage, rotate
from .extensions import db

keys_cli = AppGroup("keys", help="Field-encryption keys: status, rotation, retirement, KEK re-wrap.")
CLI_ACTOR = "cli"


def _copy(keys: AppKeys) -> AppKeys:
    """An independent copy of the running keys to change, save, and then swap in."""
    ring = crypto.KeyRing.from_material(keys.ring.to_material())
    return replace(keys, ring=ring)


def _save_and_swap(new: AppKeys) -> None:
    try:
        new.save()
    except (KeyConfigError, OSError) as exc:
        raise click.ClickException(f"could not save the key file: {exc}") from None
    current_app.extensions["clinician_keys"] = new


def _table(title: str, key_ids: list[str], per_column: dict[str, dict[str, int]], totals: dict[str, int]) -> None:
    columns = list(key_ids) + ([OTHER] if totals.get(OTHER) else [])
    width = max([len(title), len("total"), *map(len, per_column)]) + 2
    click.echo(f"{title:<{width}}" + "".join(f"{k:>12}" for k in columns))
    for name, counts in per_column.items():
        click.echo(f"{name:<{width}}" + "".join(f"{counts.get(k, 0):>12}" for k in columns))
    click.echo(f"{'total':<{width}}" + "".join(f"{totals.get(k, 0):>12}" for k in columns))


@keys_cli.command("status")
def keys_status():
    """How many values use each data key and each index key, per column and in total."""
    ring = current_keys().ring
    usage = key_usage(db.session, ring)
    click.echo(f"data keys: {', '.join(ring.data_key_ids)} (active {ring.active_key_id})")
    click.echo(f"index keys: {', '.join(ring.index_key_ids)} (active {ring.active_index_key_id})")
    click.echo()
    _table("encrypted values", ring.data_key_ids, usage.data, usage.data_totals())
    click.echo()
    _table("blind indexes", ring.index_key_ids, usage.index, usage.index_totals())
    if usage.data_totals().get(OTHER) or usage.index_totals().get(OTHER):
        click.echo(f"\n{OTHER}: values naming a key this key file does not hold; they can't be read.", err=True)


@keys_cli.command("rotate")
@click.option("--batch-size", type=click.IntRange(1, 100_000), default=500, show_default=True,
              help="Rows per committed batch.")
@click.option("--resume", is_flag=True,
              help="Add no key: finish moving values to the active keys (after an interrupted run).")
@click.option("--grace", type=click.FloatRange(0), default=None,
              help="Seconds to wait after saving the new keys (default KEY_ROTATION_GRACE_SECONDS, 5).")
def keys_rotate(batch_size: int, resume: bool, grace: float | None):
    """Add a data key and an index key, then re-encrypt every field and recompute every
    blind index under them, committing per batch.

    \b
    The new keys are saved to the key file first. Running app processes re-read the
    key file within 2 seconds of a change and then encrypt with the new key, so the
    command waits --grace seconds before re-encrypting; a value written meanwhile under
    the old key is still readable and is moved by the next run. Processes given their
    keys in CLINICIAN_KEYS_JSON do not reload: restart them before re-encrypting.

    \b
    Safe to interrupt (Ctrl-C, kill): committed batches stay, nothing is moved twice.
    Finish with --resume. `keys retire OLD_ID` then forgets the old key, and refuses
    while any value still uses it.
    """
    keys = current_keys()
    added = {}
    if not resume:
        if not keys.path:
            raise click.ClickException("the keys came from CLINICIAN_KEYS_JSON; rotation needs a key file "
                                       "(CLINICIAN_KEYS_FILE) it can add the new keys to")
        new = _copy(keys)
        added = {"data_key": new.ring.add_data_key(), "index_key": new.ring.add_index_key()}
        _save_and_swap(new)
        keys = new
        wait = current_app.config.get("KEY_ROTATION_GRACE_SECONDS", 5.0) if grace is None else grace
        click.echo(f"added data key {added['data_key']} and index key {added['index_key']} to {keys.path}")
        if wait:
            click.echo(f"waiting {wait:g} s for running processes to load them...")
            time.sleep(wait)
    ring = keys.ring
    total = count_pending(db.session, ring)
    db.session.commit()
    result = RotationResult()
    try:
        label = f"moving {total} rows to {ring.active_key_id}/{ring.active_index_key_id}"
        with _sigterm_as_interrupt(), click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True) as bar:
            rotate(db.session, ring, batch_size=batch_size, commit=db.session.commit, progress=bar.update, result=result)
    except BaseException as exc:  # Ctrl-C and kill too: record the stop and say how to finish
        db.session.rollback()
        _record("keys.rotate", ring, outcome="interrupted", details={**added, **result.as_details(), "resumed": resume})
        # RotationError names the cell; other errors' text could quote SQL parameters.
        reason = str(exc) if isinstance(exc, RotationError) else type(exc).__name__
        message = (f"rotation stopped ({reason}) after {result.rows} rows; what was done is kept. "
                   "Run `flask --app wsgi keys rotate --resume` to finish.")
        if isinstance(exc, (RotationError, KeyboardInterrupt, SQLAlchemyError, OSError)):
            raise click.ClickException(message) from None
        click.echo(message, err=True)
        raise
    _record("keys.rotate", ring, details={**added, **result.as_details(), "resumed": resume})
    click.echo(f"re-encrypted {result.values_reencrypted} values and recomputed {result.indexes_recomputed} "
               f"blind indexes in {result.rows} rows; everything now uses {ring.active_key_id}/{ring.active_index_key_id}")


@contextmanager
def _sigterm_as_interrupt():
    """`kill` stops the run like Ctrl-C: the batch in flight rolls back, the stop is audited."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _record(action: str, ring: crypto.KeyRing, *, outcome: str = "success", details: dict | None = None) -> None:
    try:
        audit.record(action, actor_username=CLI_ACTOR, record_type="key_ring", record_id=ring.active_key_id,
                     outcome=outcome, details={"active_data_key": ring.active_key_id,
                                               "active_index_key": ring.active_index_key_id, **(details or {})})
        db.session.commit()
    except Exception:
        db.session.rollback()
        if outcome == "success":
            raise
        print("the audit event for this interrupted run could not be written", file=sys.stderr)


@keys_cli.command("retire")
@click.argument("key_id")
def keys_retire(key_id: str):
    """Forget an old data or index key; refused while any value still uses it."""
    keys = current_keys()
    ring = keys.ring
    if key_id not in ring.data_key_ids + ring.index_key_ids:
        raise click.ClickException(f"no key {key_id!r} in the key file (data keys {', '.join(ring.data_key_ids)}; "
                                   f"index keys {', '.join(ring.index_key_ids)})")
    if key_id in (ring.active_key_id, ring.active_index_key_id):
        raise click.ClickException(f"{key_id} is the active key; run `keys rotate` first")
    users = key_usage(db.session, ring).users_of(key_id)
    if users:
        listing = ", ".join(f"{column}: {n}" for column, n in users.items())
        raise click.ClickException(f"{key_id} still protects {sum(users.values())} value(s) ({listing}); "
                                   "run `flask --app wsgi keys rotate --resume`, then retire it")
    if not keys.path:
        raise click.ClickException("the keys came from CLINICIAN_KEYS_JSON; retire the key there")
    new = _copy(keys)
    if key_id in new.ring.data_key_ids:
        new.ring.retire_data_key(key_id)
    else:
        new.ring.retire_index_key(key_id)
    _save_and_swap(new)
    _record("keys.retire", new.ring, details={"retired": key_id})
    click.echo(f"retired {key_id}; it is no longer in {new.path}")


@keys_cli.command("rewrap-kek")
def keys_rewrap_kek():
    """KEK rotation: wrap every data and index key under a new key-encryption key.

    \b
    No row changes. With the KEK in the key file, the new one is written there. With
    CLINICIAN_KEK, the new KEK is printed once: store it in CLINICIAN_KEK for every
    process and restart them (until then they keep the keys they loaded).
    """
    keys = current_keys()
    if not keys.path:
        raise click.ClickException("the keys came from CLINICIAN_KEYS_JSON; re-wrap needs a key file")
    new = _copy(keys)
    new.ring.rewrap()
    if new.kek_from_env:
        # Printed before the save: a crash in between must not lose the only copy.
        click.echo("New key-encryption key (shown once). Store it as CLINICIAN_KEK for every process, then restart them:")
        click.echo(new.ring.to_material()["kek"])
    _save_and_swap(new)
    _record("keys.rewrap_kek", new.ring, details={"kek_in_file": not new.kek_from_env})
    wrapped = len(new.ring.data_key_ids) + len(new.ring.index_key_ids)
    where = "CLINICIAN_KEK (printed above)" if new.kek_from_env else new.path
    click.echo(f"re-wrapped {wrapped} keys under a new KEK; the KEK is in {where}")
