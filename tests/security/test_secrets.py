"""Secrets: the key-encryption key, the Flask secret and private key seeds never reach the database
or the logs, and a database dump alone cannot forge a badge."""

import base64
import copy
import hashlib
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from helpers import PASSWORD, login
from security_helpers import db
from sqlalchemy import select

from badges import demo, services
from badges.core import keywrap
from badges.core.contexts import static_loader
from badges.core.errors import KeyFormatError
from badges.core.jwt import sign_jwt
from badges.core.keys import multibase_encode, private_key_from_seed, private_key_seed
from badges.core.signing import create_proof
from badges.models import Award, Base, Organisation, SigningKey


def _spellings(secret: bytes) -> list[bytes]:
    """Every usual way a secret could be written down."""
    return [
        secret, secret.hex().encode(), secret.hex().upper().encode(),
        base64.b64encode(secret), base64.urlsafe_b64encode(secret), base64.b64encode(secret).rstrip(b"="),
        base64.urlsafe_b64encode(secret).rstrip(b"="), multibase_encode(secret).encode(),
    ]


def _dump(app) -> bytes:  # noqa: ANN001
    """Every value of every column of every table, as bytes (what a database dump holds)."""
    parts: list[bytes] = []
    with db(app) as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                for value in row:
                    if isinstance(value, bytes | bytearray | memoryview):
                        parts.append(bytes(value))
                    elif value is not None:
                        parts.append(json.dumps(value, default=str, ensure_ascii=False).encode())
                        parts.append(str(value).encode())
    return b"\n".join(parts)


def _seeds(app, site) -> list[bytes]:  # noqa: ANN001
    with db(app) as session:
        return [keywrap.unwrap(site.kek, key.encrypted_seed, associated=key.public_key_multibase.encode())
                for key in session.scalars(select(SigningKey))]


@pytest.fixture
def busy_installation(app, site, browser, caplog):
    """Demo data, awards, a revocation, a key rotation and page views; returns every log line."""
    with caplog.at_level(logging.DEBUG):
        with db(app) as session:
            now = datetime.now(UTC)
            demo.load(session, site, now=now)
            organisation = session.scalar(select(Organisation).where(Organisation.slug == demo.DEMO_SLUG))
            award = session.scalars(select(Award)).first()
            services.revoke_award(session, site, award, reason="Väärä merkki", now=now)
            services.rotate_key(session, site, organisation, now=now + timedelta(seconds=1))
            session.commit()
        client = browser()
        assert login(client, "admin@demo.test", demo.PASSWORD).status_code == 302
        for path in ("/", f"/org/{demo.DEMO_SLUG}/keys", f"/issuers/{demo.DEMO_SLUG}/did.json",
                     f"/org/{demo.DEMO_SLUG}/awards", f"/org/{demo.DEMO_SLUG}/audit"):
            assert client.get(path).status_code == 200, path
        login(browser(), "admin@demo.test", "wrong " + PASSWORD)
    # Read now: pytest keeps the lines of the set-up phase apart from those of the test.
    return caplog.text.encode() + b"\n".join(record.getMessage().encode() for record in caplog.records)


def test_no_secret_is_in_the_database_or_the_logs(app, site, kek_text, busy_installation):
    seeds = _seeds(app, site)
    assert len(seeds) >= 3  # two organisations, one of them rotated
    secrets = {
        "SECRET_KEY": [str(app.config["SECRET_KEY"]).encode()],
        "KEK": [kek_text.encode(), *_spellings(keywrap.parse_kek(kek_text))],
        **{f"seed {number}": _spellings(seed) for number, seed in enumerate(seeds)},
    }
    dump = _dump(app)
    logs = busy_installation
    assert len(dump) > 100_000 and b'"path":"/org/<slug>/keys"' in logs
    for name, spellings in secrets.items():
        for spelling in spellings:
            assert spelling not in dump, f"{name} is in the database"
            assert spelling not in logs, f"{name} is in the logs"


@pytest.fixture
def rotated(app, site, people) -> None:
    """The ``people`` organisation after a key rotation: a retired and an active key."""
    with db(app) as session:
        services.rotate_key(session, site, session.scalar(select(Organisation)), now=datetime.now(UTC))
        session.commit()


def test_a_wrong_or_missing_kek_decrypts_no_signing_key(app, rotated):
    with db(app) as session:
        keys = list(session.scalars(select(SigningKey)))
    for kek in (keywrap.parse_kek(keywrap.new_kek()), bytes(32), hashlib.sha256(b"").digest(),
                hashlib.sha256(str(app.config["SECRET_KEY"]).encode()).digest()):
        for key in keys:
            with pytest.raises(KeyFormatError):
                keywrap.unwrap(kek, key.encrypted_seed, associated=key.public_key_multibase.encode())


def test_a_seed_moved_to_another_key_row_does_not_decrypt(app, site, rotated):
    with db(app) as session:
        first, second = list(session.scalars(select(SigningKey)))[:2]
        with pytest.raises(KeyFormatError):
            keywrap.unwrap(site.kek, first.encrypted_seed, associated=second.public_key_multibase.encode())


def _candidate_keys(app) -> list[bytes]:  # noqa: ANN001
    """Every 32-byte value an attacker could derive from the key table of a dump."""
    candidates: list[bytes] = []
    with db(app) as session:
        for key in session.scalars(select(SigningKey)):
            blob = bytes(key.encrypted_seed)
            candidates += [blob[i:i + 32] for i in range(len(blob) - 31)]
            candidates += [hashlib.sha256(blob).digest(), hashlib.sha256(key.public_key_multibase.encode()).digest()]
            candidates.append(hashlib.sha256(blob[keywrap.NONCE_BYTES:]).digest())
    return candidates


def test_a_credential_signed_with_any_key_from_the_dump_fails_verification(app, site, rotated):
    with db(app) as session:
        award = session.scalars(select(Award).where(Award.revoked_at.is_(None))).first()
        genuine = json.loads(award.document)
        now = datetime.now(UTC)
        assert services.verify_document(session, site, genuine, now=now).verified
        forged = copy.deepcopy(genuine)
        forged.pop("proof")
        forged["credentialSubject"]["achievement"]["name"] = "Trukkikortti (väärennetty)"
        method = genuine["proof"]["verificationMethod"]
        candidates = _candidate_keys(app)
        assert len(candidates) > 60
        for seed in candidates:
            key = private_key_from_seed(seed)
            signed = create_proof(forged, key, verification_method=method, created=now, loader=static_loader())
            result = services.verify_document(session, site, signed, now=now)
            assert not result.verified and result.check("proof").code == "bad_signature"
            token = sign_jwt(forged, key, kid=method)
            assert not services.verify_document(session, site, token, now=now).verified


def test_without_the_kek_the_app_does_not_start(app, monkeypatch, tmp_path):
    from badges import create_app

    monkeypatch.setenv("BADGES_INSTANCE_PATH", str(tmp_path / "dump-only"))
    monkeypatch.delenv("BADGES_KEK", raising=False)
    config = {key: value for key, value in app.config.items() if key != "BADGES_KEK"}
    with pytest.raises(RuntimeError, match="key-encryption key"):
        create_app(config)


def test_the_seed_round_trips_only_with_the_right_kek(site):
    seed = private_key_seed(private_key_from_seed(bytes(range(32))))
    blob = keywrap.wrap(site.kek, seed, associated=b"z6MkTest")
    assert seed not in blob
    assert keywrap.unwrap(site.kek, blob, associated=b"z6MkTest") == seed
