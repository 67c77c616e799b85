"""Encrypted backups and their restore (SECURITY.md promise 20).

``flask backup`` writes a consistent copy of the database, encrypted at rest:

* PostgreSQL: ``pg_dump --format=custom``, which reads everything in one
  transaction (one snapshot), so the copy is consistent while the app runs on.
  A ``search_path`` in DATABASE_URL (a schema of its own) dumps that schema only.
* SQLite: the sqlite3 online backup API, page by page into a temporary copy
  (consistent even while other connections write).

The dump never touches the disk unencrypted on the way out: it is read in 1 MiB
chunks and each chunk is sealed with AES-256-GCM under a key derived for this
file from the key ring's active data key (``KeyRing.purpose_key("backup:<salt>")``,
HKDF). The file is::

    MAGIC | header length (4 bytes) | header (JSON: format, backend, data key id,
    salt, schema, migration, time: no data) | chunk* ;
    chunk = ciphertext length (4 bytes) | nonce (12) | ciphertext and tag

Each chunk's associated data binds it to the header, its position and whether it
is the last, so chunks can't be reordered, dropped, or the file cut short. The
field-level encryption inside the dump stays as it is: a restored database needs
the same key file (the backup is useless without it, and the key file must be
kept apart from backups).

``flask restore FILE --target-url URL`` checks every chunk first (a wrong key ring
or an altered file is refused before anything is written), then loads the dump
into the target, which must be empty: a new PostgreSQL database (``createdb``)
through ``pg_restore --single-transaction``, or a new SQLite file. Then it reads
every encrypted field of every row back and verifies the audit chain on the copy.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from clinician_app.core import crypto

MAGIC = b"CLINICIAN-BACKUP\n"
FORMAT = 1
CHUNK = 1024 * 1024
NONCE = 12
_LEN = 4


class BackupError(RuntimeError):
    """A backup or restore that can't go on; the message names no data."""


@dataclass
class BackupInfo:
    path: Path
    backend: str
    bytes_in: int
    bytes_out: int
    key_id: str
    schema: str | None


@dataclass
class RestoreReport:
    backend: str
    tables: dict[str, int] = field(default_factory=dict)
    fields_decrypted: int = 0
    audit_events: int = 0
    audit_problems: list[str] = field(default_factory=list)
    field_problems: list[str] = field(default_factory=list)  # "table.field row <id>": ids only

    @property
    def ok(self) -> bool:
        return not self.audit_problems and not self.field_problems


# --- the file format ----------------------------------------------------------------

def _aad(header_digest: bytes, index: int, final: bool) -> bytes:
    return header_digest + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    data = stream.read(size)
    if len(data) != size:
        raise BackupError("the backup file is cut short or is not a backup")
    return data


def seal(source: BinaryIO, target: BinaryIO, ring: crypto.KeyRing, header: dict,
         progress: Callable[[int], None] | None = None) -> tuple[int, int, str]:
    """Encrypt ``source`` into ``target``; returns (bytes read, bytes written, data key id)."""
    salt = os.urandom(16)
    key_id, key = ring.purpose_key(f"backup:{salt.hex()}")
    header = {**header, "format": FORMAT, "key_id": key_id, "salt": salt.hex(), "chunk": CHUNK}
    header_bytes = json.dumps(header, sort_keys=True).encode()
    digest = hashlib.sha256(MAGIC + header_bytes).digest()
    cipher = AESGCM(key)
    target.write(MAGIC + len(header_bytes).to_bytes(_LEN, "big") + header_bytes)
    written, read, index = len(MAGIC) + _LEN + len(header_bytes), 0, 0
    chunk = source.read(CHUNK)
    while True:
        following = source.read(CHUNK) if chunk else b""
        final = not following
        nonce = os.urandom(NONCE)
        sealed = cipher.encrypt(nonce, chunk, _aad(digest, index, final))
        target.write(len(sealed).to_bytes(_LEN, "big") + nonce + sealed)
        read, written, index = read + len(chunk), written + _LEN + NONCE + len(sealed), index + 1
        if progress:
            progress(read)
        if final:
            return read, written, key_id
        chunk = following


def read_header(stream: BinaryIO) -> tuple[dict, bytes]:
    if stream.read(len(MAGIC)) != MAGIC:
        raise BackupError("not a clinician_app backup file")
    size = int.from_bytes(_read_exact(stream, _LEN), "big")
    if size > 64 * 1024:
        raise BackupError("not a clinician_app backup file")
    header_bytes = _read_exact(stream, size)
    try:
        header = json.loads(header_bytes)
    except ValueError:
        raise BackupError("the backup's header is damaged") from None
    if header.get("format") != FORMAT:
        raise BackupError(f"unsupported backup format {header.get('format')!r}")
    return header, hashlib.sha256(MAGIC + header_bytes).digest()


def open_chunks(path: Path, ring: crypto.KeyRing) -> tuple[dict, Iterator[bytes]]:
    """The header, and the decrypted chunks in order; BackupError (before the bad
    chunk is yielded) if the keys are wrong or the file was altered or cut short."""
    stream = open(path, "rb")  # noqa: SIM115 - closed by the generator
    try:
        header, digest = read_header(stream)
        try:
            _key_id, key = ring.purpose_key(f"backup:{header['salt']}", key_id=header["key_id"])
        except crypto.MissingKeyError:
            raise BackupError(f"this key ring does not hold data key {header['key_id']!r}, which the backup was "
                              "encrypted with: restore with the key file of the installation that made it") from None
        except (KeyError, TypeError, ValueError):
            raise BackupError("the backup's header is damaged") from None
    except BaseException:
        stream.close()
        raise
    cipher = AESGCM(key)

    def chunks() -> Iterator[bytes]:
        with stream:
            index = 0
            while True:
                size_bytes = stream.read(_LEN)
                if not size_bytes:
                    raise BackupError("the backup file is cut short (its last part is missing)")
                size = int.from_bytes(size_bytes, "big")
                if size > CHUNK + 16 or size < 16:
                    raise BackupError("the backup file is damaged")
                nonce = _read_exact(stream, NONCE)
                sealed = _read_exact(stream, size)
                for final in (False, True):
                    try:
                        data = cipher.decrypt(nonce, sealed, _aad(digest, index, final))
                        break
                    except InvalidTag:
                        continue
                else:
                    raise BackupError("the backup does not decrypt with this key ring: wrong key file, "
                                      "or the file was altered")
                yield data
                index += 1
                if final:
                    if stream.read(1):
                        raise BackupError("the backup file has data after its last part")
                    return

    return header, chunks()


def check_file(path: Path, ring: crypto.KeyRing) -> dict:
    """Decrypt every chunk and throw it away: the header if all is well, BackupError if not."""
    header, chunks = open_chunks(path, ring)
    for _ in chunks:
        pass
    return header


# --- PostgreSQL ---------------------------------------------------------------------

def _pg_env(url: URL) -> dict:
    """libpq settings for pg_dump/pg_restore, in the environment (a password never
    goes on a command line, where ``ps`` shows it)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for name, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                        ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            env[name] = str(value)
    return env


def schema_of(url: URL) -> str | None:
    """The schema named by ``options=-csearch_path=...`` in the URL, if any."""
    options = url.query.get("options")
    if options is None:
        return None
    for option in (options if isinstance(options, tuple) else (options,)):
        for part in unquote(option).split():
            part = part.removeprefix("-c")
            if part.startswith("search_path="):
                return part.split("=", 1)[1].split(",")[0].strip() or None
    return None


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return found


def _pg_dump(url: URL, schema: str | None, target: BinaryIO, ring: crypto.KeyRing, header: dict,
             progress) -> tuple[int, int, str]:
    command = [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges"]
    if schema:
        command.append(f"--schema={schema}")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_pg_env(url))  # noqa: S603 - a fixed argument list, no shell
    try:
        result = seal(process.stdout, target, ring, header, progress)
    finally:
        process.stdout.close()
        errors = process.stderr.read().decode(errors="replace")
        process.stderr.close()
        code = process.wait()
    if code != 0:
        raise BackupError(f"pg_dump failed (exit {code}): {errors.strip()[:500]}")
    return result


def _pg_restore(chunks: Iterator[bytes], url: URL) -> None:
    command = [_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
               f"--dbname={url.database}"]
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=errors, stdout=subprocess.DEVNULL,  # noqa: S603 - a fixed argument list, no shell
                                   env=_pg_env(url))
        try:
            for chunk in chunks:
                process.stdin.write(chunk)
        except BrokenPipeError:
            pass
        finally:
            try:
                process.stdin.close()
            except BrokenPipeError:
                pass
            code = process.wait()
        if code != 0:
            errors.seek(0)
            raise BackupError(f"pg_restore failed (exit {code}): {errors.read().decode(errors='replace').strip()[:500]}")


# --- SQLite -------------------------------------------------------------------------

def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up")
    return Path(url.database)


def _sqlite_snapshot(path: Path, workdir: Path) -> Path:
    copy = workdir / "snapshot.sqlite"
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    target = sqlite3.connect(copy)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()
    return copy


# --- the commands' work -------------------------------------------------------------

def default_backup_path(instance_dir: str | os.PathLike) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(instance_dir) / "backups" / f"clinician-{stamp}.backup"


def _migration_of(engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - an empty database has no revision to note
        return None


def backup(database_url: str, output: Path, ring: crypto.KeyRing, *, schema: str | None = None,
           progress: Callable[[int], None] | None = None) -> BackupInfo:
    """Write an encrypted, consistent copy of ``database_url`` to ``output`` (which
    must not exist; written as ``output.partial`` and renamed when complete)."""
    url = make_url(database_url)
    output = Path(output)
    if output.exists():
        raise BackupError(f"{output} already exists; choose another file")
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    engine = create_engine(url)
    try:
        revision = _migration_of(engine)
    finally:
        engine.dispose()
    backend = url.get_backend_name()
    header = {"backend": backend, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
              "migration": revision}
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as target:
            if backend == "postgresql":
                schema = schema or schema_of(url)
                header["schema"] = schema
                read, written, key_id = _pg_dump(url, schema, target, ring, header, progress)
            elif backend == "sqlite":
                with tempfile.TemporaryDirectory(prefix="clinician-backup-") as workdir:
                    os.chmod(workdir, 0o700)
                    snapshot = _sqlite_snapshot(_sqlite_path(url), Path(workdir))
                    with open(snapshot, "rb") as source:
                        read, written, key_id = seal(source, target, ring, header, progress)
            else:
                raise BackupError(f"no backup method for {backend}")
            target.flush()
            os.fsync(target.fileno())
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupInfo(output, backend, read, written, key_id, schema if backend == "postgresql" else None)


def restore(path: Path, target_url: str, ring: crypto.KeyRing) -> dict:
    """Load the backup into an empty target; returns the backup's header."""
    header = check_file(Path(path), ring)  # refuse a wrong key or an altered file before writing anything
    url = make_url(target_url)
    backend = url.get_backend_name()
    if backend != header.get("backend"):
        raise BackupError(f"this is a {header.get('backend')} backup; restore it into a {header.get('backend')} database")
    _header, chunks = open_chunks(Path(path), ring)
    if backend == "postgresql":
        _require_empty_postgres(url, header.get("schema"))
        _pg_restore(chunks, url)
    else:
        target = _sqlite_path(url)
        if target.exists():
            raise BackupError(f"{target} already exists: restore into a new file")
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
            check = sqlite3.connect(partial)
            try:
                if check.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                    raise BackupError("the restored SQLite file fails its integrity check")
            finally:
                check.close()
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return header


def _require_empty_postgres(url: URL, schema: str | None) -> None:
    engine = create_engine(url.set(query={}))
    try:
        with engine.connect() as conn:
            if schema:
                taken = conn.execute(text("SELECT 1 FROM information_schema.schemata WHERE schema_name = :s"),
                                     {"s": schema}).first()
                if taken:
                    raise BackupError(f"the target database already has schema {schema!r}: restore into a new database")
            elif inspect(conn).get_table_names(schema="public"):
                raise BackupError("the target database is not empty: create a new one (createdb) to restore into")
    finally:
        engine.dispose()


def restored_url(target_url: str, header: dict) -> str:
    """The target URL with the backup's schema on the search path, to read the copy."""
    url = make_url(target_url)
    schema = header.get("schema")
    if url.get_backend_name() != "postgresql" or not schema:
        return target_url
    query = {k: v for k, v in url.query.items() if k != "options"}
    return url.set(query={**query, "options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def verify_restored(database_url: str, ring: crypto.KeyRing, audit_key: bytes,
                    progress: Callable[[str], None] | None = None) -> RestoreReport:
    """Count every table, decrypt every encrypted field of every row (bound to its
    table, column and row, so a value moved or altered fails), and verify the audit
    chain: what a restore drill proves."""
    from clinician_app import models  # noqa: F401 - every table registered
    from clinician_app.core import types
    from clinician_app.core.audit import verify_chain
    from clinician_app.extensions import db

    engine = create_engine(database_url)
    report = RestoreReport(backend=engine.dialect.name)
    try:
        with Session(engine) as session:
            present = set(inspect(session.connection()).get_table_names())
            for table in db.metadata.sorted_tables:
                if table.name in present:
                    report.tables[table.name] = session.execute(
                        select(func.count()).select_from(table)).scalar_one()
            for entry in types.REGISTRY:
                if entry.table not in present:
                    continue
                column = getattr(entry.model, entry.column)
                stmt = select(entry.model.id, column).where(column.is_not(None)).execution_options(yield_per=5000)
                for row_id, blob in session.execute(stmt):
                    try:
                        types.decode_value(entry.kind, ring.decrypt_raw(
                            blob, table=entry.table, column=entry.name, row_id=row_id))
                    except crypto.CryptoError:
                        report.field_problems.append(f"{entry.table}.{entry.name} of row {row_id} does not decrypt")
                        continue
                    report.fields_decrypted += 1
                if progress:
                    progress(f"{entry.table}.{entry.name}")
            result = verify_chain(session, audit_key)
            report.audit_events = result.checked
            report.audit_problems = list(result.problems)
    finally:
        engine.dispose()
    return report


def progress_printer(label: str) -> Callable[[int], None]:
    """A one-line progress report on stderr (bytes so far)."""
    def show(done: int) -> None:
        sys.stderr.write(f"\r{label}: {done / 1024 / 1024:,.1f} MiB")
        sys.stderr.flush()

    return show


__all__ = ["BackupError", "BackupInfo", "RestoreReport", "backup", "check_file", "default_backup_path",
           "restore", "restored_url", "verify_restored"]
