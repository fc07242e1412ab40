"""``badges backup`` / ``badges restore``: database and secrets round-trip on SQLite and PostgreSQL."""

import io
import json
import os
import shutil
import stat
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import BASE_URL, PASSWORD, in_ci
from security_helpers import ADMIN, csrf_token, text
from sqlalchemy import create_engine, select, text as sql
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from badges import create_app, services
from badges.backup_cli import table_names
from badges.cli import main
from badges.core import keywrap
from badges.db import alembic_config, get_session
from badges.models import Award

POSTGRES_URL = os.environ.get("BADGES_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class Installation:
    """An instance folder and a database, driven through the ``badges`` command like an operator would."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, folder: Path, database_url: str) -> None:
        self.monkeypatch, self.folder, self.database_url = monkeypatch, folder, database_url
        self.runner = CliRunner()

    def run(self, *args: str):  # noqa: ANN201 - click Result
        """Run a ``badges`` command against this installation."""
        self.monkeypatch.setenv("BADGES_INSTANCE_PATH", str(self.folder))
        self.monkeypatch.setenv("DATABASE_URL", self.database_url)
        self.monkeypatch.setenv("BADGES_BASE_URL", BASE_URL)
        for name in ("BADGES_SECRET_KEY", "BADGES_KEK"):
            self.monkeypatch.delenv(name, raising=False)
        return self.runner.invoke(main, list(args), catch_exceptions=False)

    def app(self):  # noqa: ANN201 - Flask
        """A production-like app of this installation (secrets from its folder, CSRF on)."""
        self.run("--help")  # sets the environment
        return create_app()

    def secrets(self) -> dict[str, str]:
        """The secret files of the instance folder."""
        return {name: (self.folder / name).read_text(encoding="utf-8") for name in ("secret_key", "kek")}


def _needs_pg_tools(database_url: str) -> None:
    if database_url.startswith("postgresql") and not (shutil.which("pg_dump") and shutil.which("pg_restore")):
        reason = "pg_dump/pg_restore are not on PATH (install postgresql-client)"
        if in_ci():
            pytest.fail(reason + " — CI must run the PostgreSQL backup tests")
        pytest.skip(reason)


def _empty_database(database_url: str, tmp_path: Path) -> str:
    """Return an empty database of the same kind: a new SQLite file, or the PostgreSQL schema emptied."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'restored.sqlite'}"
    schema = make_url(database_url).query["options"].split("=", 1)[1]
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with admin.connect() as connection:
        connection.execute(sql(f"DROP SCHEMA {schema} CASCADE"))
        connection.execute(sql(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    return database_url


def _load_data(installation: "Installation") -> None:
    """An organisation with an admin (password), a client and three awards, one revoked."""
    app = installation.app()
    now = datetime.now(UTC)
    with app.app_context():
        session = get_session()
        site = services.Site(base_url=BASE_URL, kek=keywrap.parse_kek(app.config["BADGES_KEK"]))
        organisation = services.create_organisation(session, site, slug="verstas", name="Työpaja Verstas", now=now)
        admin = services.create_user(session, display_name="Aino", email=ADMIN, password=PASSWORD, now=now)
        client = services.create_user(session, display_name="Maija", email="maija@example.test", now=now)
        services.add_member(session, admin, organisation, "admin", now=now)
        services.add_member(session, client, organisation, "client", now=now)
        badge = services.create_achievement(session, organisation, name="Puulajit", description="Osaa.",
                                            criteria="Osaa nimetä puulajit.", image_alt="Merkki", now=now)
        awards = [services.issue_award(session, site, version=badge.current, recipient=client, now=now)
                  for _ in range(3)]
        services.revoke_award(session, site, awards[0], reason="Väärä henkilö", now=now)
        services.rotate_key(session, site, organisation, now=now)
        session.commit()
    app.extensions["badges.engine"].dispose()


@pytest.fixture
def source(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Installation:
    """An installation with an organisation, people and awards (one revoked), after a key rotation."""
    _needs_pg_tools(database_url)
    installation = Installation(monkeypatch, tmp_path / "instance", database_url)
    assert installation.run("init").exit_code == 0
    _load_data(installation)
    return installation


@pytest.fixture
def backup(source: Installation, tmp_path: Path) -> tuple[Path, str]:
    """A backup of ``source``: the file and what the command printed."""
    file = tmp_path / "backups" / "passi.tar.gz"
    result = source.run("backup", str(file))
    assert result.exit_code == 0, result.output
    return file, result.output


def _members(file: Path) -> dict[str, bytes]:
    with tarfile.open(file, "r:gz") as archive:
        return {member.name: archive.extractfile(member).read() for member in archive.getmembers()}


def test_a_backup_is_one_private_archive_with_manifest_database_and_secrets(source, backup):
    backup_file, output = backup
    assert stat.S_IMODE(backup_file.stat().st_mode) == 0o600
    assert "WARNING" in output and "key-encryption key" in output
    members = _members(backup_file)
    manifest = json.loads(members["manifest.json"])
    kind = "sqlite" if source.database_url.startswith("sqlite") else "postgresql"
    assert manifest["format"] == "osaamispassi-backup" and manifest["format_version"] == 1
    assert manifest["database"] == kind and manifest["alembic_revision"] == "0004"
    assert manifest["base_url"] == BASE_URL and manifest["app_version"]
    assert datetime.fromisoformat(manifest["created_at"]) <= datetime.now(UTC)
    assert manifest["database_file"] in members and len(members[manifest["database_file"]]) > 10_000
    secrets = source.secrets()
    assert members["secrets/secret_key"].decode() == secrets["secret_key"]
    assert members["secrets/kek"].decode() == secrets["kek"]
    assert "Anyone with this file can issue badges" in members["README.txt"].decode()


def test_an_existing_backup_file_is_not_overwritten_without_force(source, backup):
    backup_file, _ = backup
    before = backup_file.read_bytes()
    refused = source.run("backup", str(backup_file))
    assert refused.exit_code != 0 and "exists already" in refused.output
    assert backup_file.read_bytes() == before
    assert source.run("backup", "--force", str(backup_file)).exit_code == 0


def test_restore_into_an_empty_installation_keeps_badges_verifiable_and_logins_working(
    source, backup, tmp_path, monkeypatch
):
    target = Installation(monkeypatch, tmp_path / "new-instance", _empty_database(source.database_url, tmp_path))
    result = target.run("restore", str(backup[0]))
    assert result.exit_code == 0, result.output
    assert "Checked: 2 signing keys open with the key-encryption key; 3 awards" in result.output
    assert target.secrets() == source.secrets()
    for name in ("secret_key", "kek"):
        assert stat.S_IMODE((target.folder / name).stat().st_mode) == 0o600

    app = target.app()
    now = datetime.now(UTC)
    with app.app_context():
        session = get_session()
        site = services.Site(base_url=BASE_URL, kek=keywrap.parse_kek(app.config["BADGES_KEK"]))
        awards = list(session.scalars(select(Award)))
        assert len(awards) == 3
        for award in awards:
            result = services.verify_document(session, site, json.loads(award.document), now=now)
            assert result.verified == (award.revoked_at is None), award.public_id
            assert result.revoked == (award.revoked_at is not None)
    client = app.test_client()
    token = csrf_token(text(client.get("/login")))
    logged_in = client.post("/login", data={"email": ADMIN, "password": PASSWORD, "csrf_token": token})
    assert logged_in.status_code == 302
    assert client.get("/org/verstas/awards").status_code == 200
    app.extensions["badges.engine"].dispose()


def test_restore_refuses_a_database_with_data_unless_forced(source, backup):
    backup_file, _ = backup
    refused = source.run("restore", str(backup_file))
    assert refused.exit_code != 0 and "not empty" in refused.output and "--force" in refused.output
    forced = source.run("restore", "--force", str(backup_file))
    assert forced.exit_code == 0, forced.output


def test_restore_refuses_to_replace_different_secrets_unless_forced(source, backup, tmp_path, monkeypatch):
    target = Installation(monkeypatch, tmp_path / "other-instance", _empty_database(source.database_url, tmp_path))
    target.folder.mkdir()
    (target.folder / "kek").write_text("another key\n", encoding="utf-8")
    refused = target.run("restore", str(backup[0]))
    assert refused.exit_code != 0 and "different secret" in refused.output
    assert (target.folder / "kek").read_text(encoding="utf-8") == "another key\n"
    assert not (target.folder / "secret_key").exists()


def _rewrite(file: Path, out: Path, **manifest_changes: object) -> Path:
    members = _members(file)
    manifest = {**json.loads(members["manifest.json"]), **manifest_changes}
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(out, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return out


def test_restore_refuses_a_backup_from_a_newer_version(source, backup, tmp_path, monkeypatch):
    newer = _rewrite(backup[0], tmp_path / "newer.tar.gz", alembic_revision="9999")
    target = Installation(monkeypatch, tmp_path / "new-instance", _empty_database(source.database_url, tmp_path))
    refused = target.run("restore", str(newer))
    assert refused.exit_code != 0 and "9999" in refused.output and "unknown" in refused.output
    assert not target.folder.exists() or not (target.folder / "kek").exists()


def test_restore_refuses_a_file_that_is_not_a_backup(source, tmp_path):
    for number, content in enumerate([b"", b"not an archive", b"\x1f\x8b\x08\x00garbage", _tar_without_manifest()]):
        bogus = tmp_path / f"bogus-{number}.tar.gz"
        bogus.write_bytes(content)
        refused = source.run("restore", "--force", str(bogus))
        assert refused.exit_code != 0, content[:20]
        assert "not a backup" in refused.output or "has no manifest.json" in refused.output, content[:20]
    assert source.secrets()["kek"] and len(table_names(source.database_url)) > 10  # nothing was touched


def _tar_without_manifest() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as archive:
        info = tarfile.TarInfo("../../etc/passwd")
        info.size = 4
        archive.addfile(info, io.BytesIO(b"root"))
    return out.getvalue()


def test_restore_upgrades_a_backup_of_an_older_schema(database_url, tmp_path, monkeypatch):
    _needs_pg_tools(database_url)
    from alembic import command

    old = Installation(monkeypatch, tmp_path / "old-instance", database_url)
    old.run("--help")
    command.upgrade(alembic_config(database_url), "0003")
    (tmp_path / "old-instance").mkdir()
    for name, value in (("secret_key", "s" * 48), ("kek", keywrap.new_kek())):
        (tmp_path / "old-instance" / name).write_text(value + "\n", encoding="utf-8")
    assert old.run("backup", str(tmp_path / "old.tar.gz")).exit_code == 0
    assert json.loads(_members(tmp_path / "old.tar.gz")["manifest.json"])["alembic_revision"] == "0003"
    target = Installation(monkeypatch, tmp_path / "new-instance", _empty_database(database_url, tmp_path))
    result = target.run("restore", str(tmp_path / "old.tar.gz"))
    assert result.exit_code == 0, result.output
    assert "Migrated the database from revision 0003 to 0004" in result.output
