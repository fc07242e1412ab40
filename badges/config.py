"""Configuration: defaults, then instance ``config.py``, then environment, then test overrides."""

import os
from pathlib import Path
from typing import Any

from flask import Flask

from badges.core.keywrap import parse_kek

# File names, not secrets (bandit B105 mistakes them for passwords).
SECRET_KEY_FILE = "secret_key"  # nosec B105
KEK_FILE = "kek"

DEFAULTS: dict[str, Any] = {
    "BADGES_BASE_URL": "http://127.0.0.1:5000",
    "BADGES_DATABASE_URL": None,  # default: sqlite in the instance folder
    "BABEL_DEFAULT_LOCALE": "fi",
    "BABEL_DEFAULT_TIMEZONE": "Europe/Helsinki",  # dates on pages are Finnish dates
    "BADGES_LOCALES": ("fi", "sv", "en"),
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # Flask-Login's "remember me" cookie gets the same protection as the session cookie
    # (the app does not offer "remember me" today; a future one must not weaken this).
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,  # seconds: one working day
    "MAX_CONTENT_LENGTH": 12 * 1024 * 1024,
    "WTF_CSRF_TIME_LIMIT": None,  # the session lifetime bounds the token
    #: How many reverse proxies sit in front of the app (X-Forwarded-For/-Proto are trusted
    #: from that many hops only); 0 when the app is reached directly.
    "BADGES_PROXIES": 0,
}


def instance_path() -> Path:
    """Return the instance folder: ``BADGES_INSTANCE_PATH`` or ``./instance``."""
    return Path(os.environ.get("BADGES_INSTANCE_PATH", "instance")).resolve()


def load(app: Flask, test_config: dict[str, Any] | None) -> None:
    """Fill ``app.config`` in layers and check that real secrets are present."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("BADGES", loads=_plain)  # BADGES_SECRET_KEY -> SECRET_KEY …
    # Our own settings keep their BADGES_ name in app.config (from_prefixed_env strips it).
    for name, value in os.environ.items():
        if name.startswith("BADGES_") and name not in ("BADGES_SECRET_KEY", "BADGES_INSTANCE_PATH"):
            app.config[name] = value
    if "DATABASE_URL" in os.environ:
        app.config["BADGES_DATABASE_URL"] = os.environ["DATABASE_URL"]
    if "REDIS_URL" in os.environ and "BADGES_REDIS_URL" not in os.environ:
        app.config["BADGES_REDIS_URL"] = os.environ["REDIS_URL"]
    if test_config:
        app.config.update(test_config)
    folder = Path(app.instance_path)
    if not app.config.get("BADGES_DATABASE_URL"):
        app.config["BADGES_DATABASE_URL"] = f"sqlite:///{folder / 'badges.sqlite'}"
    app.config["BADGES_DATABASE_URL"] = normalise_database_url(app.config["BADGES_DATABASE_URL"])
    app.config["BADGES_BASE_URL"] = str(app.config["BADGES_BASE_URL"]).rstrip("/")
    _load_secret(app, "SECRET_KEY", folder / SECRET_KEY_FILE)
    _load_secret(app, "BADGES_KEK", folder / KEK_FILE)
    # Behind HTTPS every cookie is Secure (session, remember-me, language); see web/__init__.py.
    app.config["SESSION_COOKIE_SECURE"] = app.config["BADGES_BASE_URL"].startswith("https://")
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]


def _plain(value: str) -> str:
    """Keep environment values as strings (Flask would json-parse them otherwise)."""
    return value


def _load_secret(app: Flask, name: str, path: Path) -> None:
    if not app.config.get(name) and path.is_file():
        app.config[name] = path.read_text(encoding="utf-8").strip()


def check_secrets(app: Flask) -> None:
    """Refuse to run without a real secret key and key-encryption key (outside tests)."""
    secret = app.config.get("SECRET_KEY")
    if not secret or len(str(secret)) < 32:
        raise RuntimeError(
            "No SECRET_KEY: run `badges init` (writes instance/secret_key) or set BADGES_SECRET_KEY "
            "to at least 32 random characters."
        )
    if not app.config.get("BADGES_KEK"):
        raise RuntimeError("No key-encryption key: run `badges init` or set BADGES_KEK.")
    parse_kek(app.config["BADGES_KEK"])


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for ``postgres://`` and ``postgresql://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url
