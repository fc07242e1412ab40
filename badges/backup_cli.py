"""``badges backup FILE`` and ``badges restore FILE``: the database and the instance secrets in one file.

A backup is a gzip-compressed tar archive with

* ``manifest.json`` — format, app version, Alembic revision, time, kind of database, base URL;
* the database: ``database.sqlite`` (a consistent copy made with SQLite's online backup API,
  safe while the app runs) or ``database.pgdump`` (``pg_dump --format=custom``; needs the
  PostgreSQL client programs ``pg_dump``/``pg_restore`` on ``PATH``, of the server's major
  version or newer);
* ``secrets/secret_key`` and ``secrets/kek`` — the Flask secret and the key-encryption key.

The file therefore holds everything needed to sign badges in the organisations' names: it is
created with mode 0600 and must be stored like a private key. (The database alone cannot
forge a badge: its private keys are encrypted under the key-encryption key.)

``restore`` refuses to overwrite a database that has tables unless ``--force`` is given,
refuses a backup made by a newer version of the app, restores the database and the secrets
into the instance folder, migrates the database to the newest schema and checks that every
signing key can be decrypted with the restored key-encryption key.
"""

import io
import json
import os
import shutil
import sqlite3
# Runs pg_dump and pg_restore with fixed argument lists, never through a shell.
import subprocess  # nosec B404
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import click
from flask import Flask

FORMAT = "osaamispassi-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite"
PG_MEMBER = "database.pgdump"
#: Where the secrets are in the archive (names, not secrets).
SECRET_MEMBERS = {"secret_key": "secrets/secret_key", "kek": "secrets/kek"}  # nosec B105
WARNING = (
    "This backup holds the instance secrets (the Flask secret key and the key-encryption key that "
    "unlocks every organisation's signing key). Anyone with this file can issue badges in their names. "
    "Keep it as safe as a private key: encrypted storage, few readers, never next to the database dumps."
)


#: What a damaged or foreign file raises while being read as a gzip-compressed tar archive.
UNREADABLE = (OSError, EOFError, tarfile.TarError, zlib.error, ValueError)


class BackupError(click.ClickException):
    """The backup or restore cannot go on; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Target:
    """Where the database lives, as the backup tools need it."""

    kind: str  #: "sqlite" or "postgresql"
    url: str
    sqlite_path: Path | None = None


def _app(check_secrets: bool = True) -> Flask:
    from badges import create_app

    return create_app(check_secrets=check_secrets)


def _target(url: str) -> Target:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise BackupError("an in-memory SQLite database cannot be backed up or restored")
        return Target("sqlite", url, Path(parsed.database))
    if parsed.get_backend_name() == "postgresql":
        return Target("postgresql", url)
    raise BackupError(f"backing up {parsed.get_backend_name()} databases is not supported")


def _app_version() -> str:
    try:
        return version("osaamispassi")
    except PackageNotFoundError:
        return "unknown"


def _revisions(url: str) -> tuple[str | None, str]:
    """Return (the database's Alembic revision, the newest revision this code knows)."""
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from badges.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head() or ""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
    return current, head


def table_names(url: str) -> list[str]:
    """Return the tables of the database at ``url`` (its search_path schema on PostgreSQL)."""
    from sqlalchemy import create_engine, inspect
    from sqlalchemy.pool import NullPool

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return inspect(connection).get_table_names()
    finally:
        engine.dispose()


# --- PostgreSQL through pg_dump / pg_restore ------------------------------------------------------


def _pg_tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise BackupError(
            f"{name} was not found on PATH. Install the PostgreSQL client programs of your server's "
            f"major version (Debian/Ubuntu: apt install postgresql-client) and try again."
        )
    return found


def _pg_connection(url: str) -> tuple[str, dict[str, str], str | None]:
    """Return (libpq URI without password, environment with PGPASSWORD, schema of search_path)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    environment = {**os.environ}
    if parsed.password:
        # Passed in the environment, not on the command line, where `ps` would show it.
        environment["PGPASSWORD"] = str(parsed.password)
    schema = None
    options = parsed.query.get("options")
    for option in (options if isinstance(options, tuple) else [options] if options else []):
        values = parse_qs(option.replace("-c", "", 1).strip(), separator=" ")
        if "search_path" in values:
            schema = values["search_path"][0].split(",")[0].strip()
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment, schema


def _run(command: list[str], environment: dict[str, str], what: str) -> None:
    # A fixed argument list (the program found on PATH and our own options), no shell.
    done = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)  # nosec B603
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: " + (detail[-1] if detail else f"exit status {done.returncode}"))


def _pg_dump(url: str, out: Path) -> None:
    uri, environment, schema = _pg_connection(url)
    command = [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={out}"]
    if schema:
        command.append(f"--schema={schema}")
    _run([*command, f"--dbname={uri}"], environment, "pg_dump")


def _pg_restore(url: str, dump: Path) -> None:
    uri, environment, _ = _pg_connection(url)
    command = [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges",
               "--single-transaction", "--exit-on-error", f"--dbname={uri}", str(dump)]
    _run(command, environment, "pg_restore")


# --- SQLite through the online backup API ------------------------------------------------------------


def _sqlite_copy(source: Path, destination: Path) -> None:
    """Copy a database page by page; consistent even while the app writes to ``source``."""
    if not source.is_file():
        raise BackupError(f"the SQLite database {source} does not exist")
    src = sqlite3.connect(source)
    dst = sqlite3.connect(destination)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


# --- backup --------------------------------------------------------------------------------------------


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes, now: datetime) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o600, int(now.timestamp())
    archive.addfile(info, io.BytesIO(data))


def make_backup(app: Flask, file: Path, *, now: datetime, force: bool = False) -> dict[str, Any]:
    """Write the backup archive of ``app``'s database and secrets to ``file``; return its manifest."""
    target = _target(app.config["BADGES_DATABASE_URL"])
    current, _ = _revisions(target.url)
    if current is None:
        raise BackupError("the database has no schema yet: run `badges init` first")
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "app_version": _app_version(),
        "alembic_revision": current, "created_at": now.isoformat(), "database": target.kind,
        "database_file": SQLITE_MEMBER if target.kind == "sqlite" else PG_MEMBER,
        "base_url": app.config["BADGES_BASE_URL"], "warning": WARNING,
    }
    file = file.resolve()
    if file.exists() and not force:
        raise BackupError(f"{file} exists already; choose another name or pass --force")
    file.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="badges-backup-") as work:
        dump = Path(work) / manifest["database_file"]
        if target.kind == "sqlite":
            _sqlite_copy(target.sqlite_path, dump)
        else:
            _pg_dump(target.url, dump)
        partial = file.with_name(f".{file.name}.part")
        partial.unlink(missing_ok=True)
        # 0600 from the first byte: the archive holds the key-encryption key.
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as handle, tarfile.open(fileobj=handle, mode="w:gz") as archive:
                _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"), now)
                _add_bytes(archive, "README.txt", (WARNING + "\n").encode("utf-8"), now)
                _add_bytes(archive, manifest["database_file"], dump.read_bytes(), now)
                _add_bytes(archive, SECRET_MEMBERS["secret_key"], str(app.config["SECRET_KEY"]).encode() + b"\n", now)
                _add_bytes(archive, SECRET_MEMBERS["kek"], str(app.config["BADGES_KEK"]).encode() + b"\n", now)
            os.replace(partial, file)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return manifest


# --- restore --------------------------------------------------------------------------------------------


@contextmanager
def _open_archive(file: Path) -> Iterator[tuple[dict[str, Any], tarfile.TarFile]]:
    """Open a backup and read its manifest; members are read by name only, never extracted as paths."""
    try:
        archive = tarfile.open(file, mode="r:gz")
        manifest = json.loads(_member(archive, MANIFEST))
    except UNREADABLE as error:
        raise BackupError(f"{file} is not a backup made by `badges backup` ({error.__class__.__name__})") from None
    with archive:
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BackupError(f"{file} is not a backup made by `badges backup`")
        if manifest.get("format_version") != FORMAT_VERSION:
            raise BackupError(f"{file} has backup format {manifest.get('format_version')}; this version reads "
                              f"format {FORMAT_VERSION}")
        yield manifest, archive


def _member(archive: tarfile.TarFile, name: str) -> bytes:
    try:
        member = archive.getmember(name)
        handle = archive.extractfile(member) if member.isfile() else None
        if handle is None:
            raise BackupError(f"{name} in the backup is not a file")
        return handle.read()
    except KeyError:
        raise BackupError(f"the backup has no {name}: it is incomplete") from None
    except UNREADABLE as error:
        raise BackupError(f"the backup is damaged: {name} cannot be read ({error.__class__.__name__})") from None


def _write_secret(path: Path, value: str) -> bool:
    """Write a secret file (0600) atomically; return True when its content changed."""
    if path.exists() and path.read_text(encoding="utf-8").strip() == value:
        return False
    partial = path.with_name(f".{path.name}.part")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(value + "\n")
    os.replace(partial, path)
    return True


def restore_backup(app: Flask, file: Path, *, force: bool = False) -> list[str]:
    """Restore the database and secrets from ``file`` into ``app``'s instance; return what was done."""
    from badges import config

    report: list[str] = []
    target = _target(app.config["BADGES_DATABASE_URL"])
    with _open_archive(file) as (manifest, archive):
        if manifest.get("database") != target.kind:
            raise BackupError(f"the backup holds a {manifest.get('database')} database, but this installation "
                              f"uses {target.kind}; restore it into the same kind of database")
        _, head = _revisions(target.url)
        from alembic.script import ScriptDirectory

        from badges.db import alembic_config

        known = {script.revision for script in ScriptDirectory.from_config(alembic_config(target.url)).walk_revisions()}
        if manifest.get("alembic_revision") not in known:
            raise BackupError(f"the backup's schema revision {manifest.get('alembic_revision')} is unknown to this "
                              f"version of the app (newest: {head}); install the version that made the backup")
        tables = table_names(target.url)
        if tables and not force:
            raise BackupError(f"the database is not empty ({len(tables)} tables); restoring would replace "
                              f"everything in it. Pass --force to do so")
        secrets = {name: _member(archive, member).decode("utf-8").strip() for name, member in SECRET_MEMBERS.items()}
        data = _member(archive, manifest["database_file"])

    folder = config.instance_path()
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    # Secrets first (checked against existing ones), so that a refusal changes nothing.
    for name, file_name in (("secret_key", config.SECRET_KEY_FILE), ("kek", config.KEK_FILE)):
        path = folder / file_name
        if path.exists() and path.read_text(encoding="utf-8").strip() != secrets[name] and not force:
            raise BackupError(f"{path} holds a different secret; pass --force to replace it with the backup's")
    for name, file_name in (("secret_key", config.SECRET_KEY_FILE), ("kek", config.KEK_FILE)):
        if _write_secret(folder / file_name, secrets[name]):
            report.append(f"Wrote {folder / file_name}")
    for variable, name in (("BADGES_SECRET_KEY", "secret_key"), ("BADGES_KEK", "kek")):
        if os.environ.get(variable) and os.environ[variable].strip() != secrets[name]:
            report.append(f"Warning: {variable} is set in the environment and differs from the backup's; "
                          f"the environment wins. Unset it or set it to the restored value.")

    app.extensions["badges.engine"].dispose()  # no pooled connection may hold the old database
    with tempfile.TemporaryDirectory(prefix="badges-restore-") as work:
        dump = Path(work) / manifest["database_file"]
        dump.write_bytes(data)
        if target.kind == "sqlite":
            target.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
            _sqlite_copy(dump, target.sqlite_path)
        else:
            _pg_restore(target.url, dump)
    report.append(f"Restored the {target.kind} database from {manifest['created_at']} "
                  f"(revision {manifest['alembic_revision']})")
    return report


def check_restored(app: Flask) -> list[str]:
    """Migrate to the newest schema and check that the key-encryption key opens every signing key."""
    from sqlalchemy import func, select

    from badges import db
    from badges.core import keywrap
    from badges.models import Award, SigningKey

    report: list[str] = []
    before, head = _revisions(app.config["BADGES_DATABASE_URL"])
    with app.app_context():
        if before != head:
            db.upgrade(app)
            report.append(f"Migrated the database from revision {before} to {head}")
        session = db.get_session()
        kek = keywrap.parse_kek(app.config["BADGES_KEK"])
        keys = list(session.scalars(select(SigningKey)))
        for key in keys:
            keywrap.unwrap(kek, key.encrypted_seed, associated=key.public_key_multibase.encode())
        awards = session.scalar(select(func.count()).select_from(Award))
    report.append(f"Checked: {len(keys)} signing keys open with the key-encryption key; {awards} awards")
    return report


# --- commands -----------------------------------------------------------------------------------------------


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace FILE if it exists.")
def backup_command(file: Path, force: bool) -> None:
    """Write the database and the instance secrets into one archive (mode 0600): keep it safe."""
    app = _app()
    manifest = make_backup(app, file, now=datetime.now(UTC), force=force)
    click.echo(f"Wrote {file} ({manifest['database']} database, revision {manifest['alembic_revision']}).")
    click.echo("WARNING: " + WARNING, err=True)


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that has data, and differing secret files.")
def restore_command(file: Path, force: bool) -> None:
    """Restore the database and the instance secrets from a backup, then migrate and check it."""
    from badges import create_app

    for line in restore_backup(_app(check_secrets=False), file, force=force):
        click.echo(line)
    # A fresh app: it reads the restored secrets and opens the restored database.
    app = create_app()
    try:
        for line in check_restored(app):
            click.echo(line)
    finally:
        app.extensions["badges.engine"].dispose()
