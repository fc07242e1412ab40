"""Rate limits (Flask-Limiter) for password and code guessing: per address and per account.

Counters live in Redis when ``BADGES_REDIS_URL`` is set (shared by every web process),
otherwise in this process's memory. Only failed attempts count, so a person who types the
right password is never slowed down by the attempts of others. A breach answers 429 with
the translated error page (the error handlers render ``TooManyRequests``).

Behind a reverse proxy, configure the proxy to set the client address (e.g. Werkzeug's
``ProxyFix``); otherwise every request seems to come from the proxy.
"""

from flask import Flask, current_app, request
from flask.wrappers import Response
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

#: Failed attempts allowed per client address (all limited forms together) …
PER_ADDRESS = "10 per minute"
#: … and per submitted account name (e-mail address or login name).
PER_ACCOUNT = "5 per minute"

limiter = Limiter(key_func=get_remote_address)


def _per_address() -> str:
    return current_app.config["BADGES_RATE_LIMIT_PER_ADDRESS"]


def _per_account() -> str:
    return current_app.config["BADGES_RATE_LIMIT_PER_ACCOUNT"]


def account_key() -> str:
    """Key the per-account limit on the submitted e-mail address or login name."""
    return "account:" + (request.form.get("email") or "").strip().lower()[:320]


def failed(response: Response) -> bool:
    """Count an attempt only when it failed (a refused form), not when it succeeded."""
    return 400 <= response.status_code < 500 and response.status_code != 429


#: The per-address limit is shared by the login and activation forms, so switching forms
#: does not double an attacker's budget.
per_address = limiter.shared_limit(_per_address, scope="auth-address", methods=["POST"], deduct_when=failed)
per_account = limiter.limit(_per_account, key_func=account_key, methods=["POST"], deduct_when=failed)

#: Password-reset requests answer alike whether the address has an account or not, so every
#: request counts (not only failed ones): it bounds the mail anyone can make us send.
RESET_PER_ADDRESS = "10 per hour"
RESET_PER_ACCOUNT = "3 per hour"


def _reset_per_address() -> str:
    return current_app.config["BADGES_RATE_LIMIT_RESET_PER_ADDRESS"]


def _reset_per_account() -> str:
    return current_app.config["BADGES_RATE_LIMIT_RESET_PER_ACCOUNT"]


reset_per_address = limiter.limit(_reset_per_address, scope="reset-address", methods=["POST"])
reset_per_account = limiter.limit(_reset_per_account, key_func=account_key, scope="reset-account", methods=["POST"])


def init_app(app: Flask) -> None:
    """Attach the limiter; each app gets fresh counters (a new in-memory store per app)."""
    # The environment variable BADGES_REDIS_URL arrives as REDIS_URL (the BADGES_ prefix is
    # stripped from environment settings); an instance config.py may use the full name.
    redis_url = app.config.get("BADGES_REDIS_URL") or app.config.get("REDIS_URL")
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    app.config.setdefault("RATELIMIT_ENABLED", True)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", False)
    app.config.setdefault("BADGES_RATE_LIMIT_PER_ADDRESS", PER_ADDRESS)
    app.config.setdefault("BADGES_RATE_LIMIT_PER_ACCOUNT", PER_ACCOUNT)
    app.config.setdefault("BADGES_RATE_LIMIT_RESET_PER_ADDRESS", RESET_PER_ADDRESS)
    app.config.setdefault("BADGES_RATE_LIMIT_RESET_PER_ACCOUNT", RESET_PER_ACCOUNT)
    # Redis down: keep limiting in this process's memory rather than failing every login.
    app.config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    limiter.init_app(app)
