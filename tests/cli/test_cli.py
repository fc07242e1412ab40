"""The ``badges`` command: init, demo, export and offline verify, with bad input."""

import json
import stat
import struct
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, inspect

from badges.cli import main
from badges.core.baking import bake_png
from badges.core.jwt import sign_jwt
from badges.core.keys import private_key_from_seed


@pytest.fixture
def instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An instance folder with demo data, set up by the CLI itself."""
    folder = tmp_path / "instance"
    monkeypatch.setenv("BADGES_INSTANCE_PATH", str(folder))
    monkeypatch.setenv("BADGES_BASE_URL", "https://passi.example.test")
    for name in ("BADGES_SECRET_KEY", "BADGES_KEK", "DATABASE_URL", "BADGES_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    assert runner.invoke(main, ["init"], catch_exceptions=False).exit_code == 0
    assert runner.invoke(main, ["demo"], catch_exceptions=False).exit_code == 0
    return folder


@pytest.fixture
def exported(instance: Path, tmp_path: Path) -> Path:
    """A static export of the demo installation."""
    out = tmp_path / "export"
    result = CliRunner().invoke(main, ["export", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


def run(*args: str):
    """Invoke the CLI and return the click result."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_init_creates_private_secrets_and_migrates_idempotently(instance: Path):
    for name in ("secret_key", "kek"):
        mode = stat.S_IMODE((instance / name).stat().st_mode)
        assert mode == 0o600, f"{name} is readable by others"
    secret = (instance / "secret_key").read_text()
    result = run("init")
    assert result.exit_code == 0
    assert (instance / "secret_key").read_text() == secret, "init must never replace a secret"
    tables = inspect(create_engine(f"sqlite:///{instance / 'badges.sqlite'}")).get_table_names()
    assert {"award", "organisation", "signing_key", "status_list", "alembic_version"} <= set(tables)


def test_demo_is_idempotent_and_prints_the_logins(instance: Path):
    result = run("demo")
    assert result.exit_code == 0
    assert "already present" in result.output
    for login in ("admin@demo.test", "coach@demo.test", "client@demo.test", "demo-password"):
        assert login in result.output


def test_export_lays_out_every_public_document_by_url_path(exported: Path):
    assert (exported / "issuers/demo-saatio/did.json").is_file()
    assert json.loads((exported / "issuers/demo-saatio/index.json").read_text())["type"] == ["Profile"]
    credentials = sorted((exported / "credentials").glob("*.json"))
    assert len(credentials) == 5
    for path in credentials:
        assert path.with_suffix(".png").is_file() and path.with_suffix(".svg").is_file()
    status_files = list((exported / "status").iterdir())
    assert status_files and json.loads(status_files[0].read_text())["type"][1] == "BitstringStatusListCredential"


@pytest.mark.parametrize("suffix", [".json", ".png", ".svg"])
def test_exported_badges_verify_offline_without_the_database(exported: Path, tmp_path, monkeypatch, suffix):
    monkeypatch.setenv("BADGES_INSTANCE_PATH", str(tmp_path / "elsewhere"))  # no installation here
    docs = ["--doc", str(exported / "issuers/demo-saatio/did.json")]
    for status in (exported / "status").iterdir():
        docs += ["--doc", str(status)]
    outcomes = []
    for path in sorted((exported / "credentials").glob("*" + suffix)):
        result = run("verify", str(path), *docs)
        outcomes.append(result.exit_code)
        assert ("NOT VERIFIED" in result.output) == (result.exit_code == 1)
    assert outcomes.count(0) == 4 and outcomes.count(1) == 1  # the demo revoked one award


def test_verify_uses_the_installation_and_reports_revocation(exported: Path):
    results = {path.name: run("verify", str(path), "--json") for path in (exported / "credentials").glob("*.json")}
    revoked = [r for r in results.values() if r.exit_code == 1]
    assert len(revoked) == 1
    report = json.loads(revoked[0].output)
    assert next(c for c in report["checks"] if c["name"] == "status")["code"] == "revoked"


def test_verify_matches_the_recipient_identity(exported: Path):
    path = next(p for p in (exported / "credentials").glob("*.json") if "client@demo.test" not in p.read_text())
    document = json.loads(path.read_text())
    kind = document["credentialSubject"]["identifier"][0]["identityType"]
    identity = "CLIENT@demo.test" if kind == "emailAddress" else "aleksi  ESIMERKKI"
    matched = [run("verify", str(p), "--identity", identity, "--json") for p in (exported / "credentials").glob("*.json")]
    assert any(json.loads(r.output)["checks"][-1]["outcome"] == "passed" for r in matched)
    wrong = run("verify", str(path), "--identity", "someone.else@example.test")
    assert wrong.exit_code == 1 and "does not match" in wrong.output


def test_a_tampered_credential_is_not_verified(exported: Path, tmp_path: Path):
    source = next((exported / "credentials").glob("*.json"))
    document = json.loads(source.read_text())
    document["credentialSubject"]["achievement"]["name"] = "Hitsaustyöt"
    target = tmp_path / "tampered.json"
    target.write_text(json.dumps(document))
    result = run("verify", str(target))
    assert result.exit_code == 1
    assert "altered" in result.output


def test_a_vc_jwt_verifies_with_the_issuers_did_document(tmp_path: Path):
    key = private_key_from_seed(bytes(range(32)))
    from badges.core.keys import did_key, did_key_verification_method

    did = did_key(key.public_key())
    credential = json.loads((Path(__file__).parent / "data" / "credential_template.json").read_text())
    credential["issuer"]["id"] = did
    token = sign_jwt(credential, key, kid=did_key_verification_method(did))
    path = tmp_path / "badge.jwt"
    path.write_text(token)
    assert run("verify", str(path)).exit_code == 0
    body = token.split(".")
    path.write_text(body[0] + "." + body[1][:-4] + "AAAA." + body[2])
    assert run("verify", str(path)).exit_code != 0


def _png(chunks: list[tuple[bytes, bytes]]) -> bytes:
    out = b"\x89PNG\r\n\x1a\n"
    for kind, data in chunks:
        out += struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return out


MINIMAL_PNG = _png([
    (b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)),
    (b"IDAT", zlib.compress(b"\x00\x00")),
    (b"IEND", b""),
])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is not a badge", "not a credential"),
        (b"{not json", "not valid JSON"),
        (b"[1, 2, 3]", "not a credential"),
        (MINIMAL_PNG, "no Open Badges"),
        (MINIMAL_PNG[:30], ""),
        (bake_png(bake_png(MINIMAL_PNG, "{}", keyword="openbadges"), "{}", keyword="openbadgecredential"), ""),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 11 * 1024 * 1024, "larger than"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"/>', "no"),
    ],
    ids=["text", "broken-json", "json-array", "png-without-badge", "truncated-png", "ob2-and-empty", "huge", "plain-svg"],
)
def test_bad_input_to_verify_gives_a_clear_error_not_a_traceback(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "input.bin"
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["verify", str(path)])
    assert result.exit_code in (1, 2), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    assert message in result.output


def test_a_png_with_two_credential_chunks_is_refused(tmp_path: Path):
    chunk = b"openbadgecredential\x00\x00\x00\x00\x00{}"
    two = _png([
        (b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)), (b"IDAT", zlib.compress(b"\x00\x00")),
        (b"iTXt", chunk), (b"iTXt", chunk), (b"IEND", b""),
    ])
    path = tmp_path / "two.png"
    path.write_bytes(two)
    result = CliRunner().invoke(main, ["verify", str(path)])
    assert result.exit_code == 2
    assert "Cannot read" in result.output
