"""Web layer: blueprints, login, CSRF, translations, error pages and security headers."""

from datetime import UTC, datetime

from flask import Flask, current_app, request
from flask_babel import Babel
from flask_login import LoginManager, current_user
from flask_wtf.csrf import CSRFProtect

from badges.core.keywrap import parse_kek
from badges.db import PROJECT_ROOT, get_session
from badges.models import User
from badges.services import Site

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()

LOCALE_COOKIE = "lang"


def utcnow() -> datetime:
    """Return the current time, aware, in UTC (the one clock of the web layer)."""
    return datetime.now(UTC)


def current_site() -> Site:
    """Return this installation's public origin and key-encryption key."""
    site = current_app.extensions.get("badges.site")
    if site is None:
        site = Site(base_url=current_app.config["BADGES_BASE_URL"], kek=parse_kek(current_app.config["BADGES_KEK"]))
        current_app.extensions["badges.site"] = site
    return site


def select_locale() -> str:
    """Choose the language: explicit choice, then the user's preference, then the browser's."""
    locales = current_app.config["BADGES_LOCALES"]
    chosen = request.args.get("lang") or request.cookies.get(LOCALE_COOKIE)
    if chosen in locales:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in locales:
        return current_user.locale
    return request.accept_languages.best_match(locales) or current_app.config["BABEL_DEFAULT_LOCALE"]


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Return the logged-in user from the session (by opaque public id)."""
    from sqlalchemy import select

    from badges.web.auth import LoginUser

    user = get_session().scalar(select(User).where(User.public_id == user_id, User.is_active.is_(True)))
    return LoginUser(user) if user else None


def init_app(app: Flask) -> None:
    """Register extensions, blueprints and handlers on ``app``."""
    from badges.web import (
        applications, auth, coach, errors, frameworks, home, library, limits, passport, people, public, sharing,
    )

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    limits.init_app(app)
    babel.init_app(
        app, locale_selector=select_locale,
        default_translation_directories=str(PROJECT_ROOT / "translations"),
    )
    app.register_blueprint(auth.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(public.bp)
    for module in (frameworks, library, people, coach, passport, sharing, applications):
        app.register_blueprint(module.bp)
    app.register_blueprint(coach.evidence_bp)
    errors.init_app(app)
    app.after_request(_security_headers)
    app.after_request(_remember_locale)

    @app.context_processor
    def inject_navigation() -> dict:
        return {"nav": _navigation()}

    @app.context_processor
    def inject_locale() -> dict:
        from flask_babel import get_locale

        return {"current_locale": str(get_locale()), "locales": app.config["BADGES_LOCALES"]}


def _navigation() -> dict:
    """Return what the menu offers the signed-in person (one small query per page)."""
    if not (current_user and current_user.is_authenticated):
        return {"client": False, "professional": False, "staff_orgs": []}
    from badges import services

    user = current_user.user
    session = get_session()
    return {
        "client": bool(services.organisations_of(session, user, ("client",))),
        "professional": bool(user.is_professional),
        "staff_orgs": services.organisations_of(session, user, ("admin", "coach")),
    }


def _remember_locale(response):  # noqa: ANN001, ANN202 - Flask response
    chosen = request.args.get("lang")
    if chosen in current_app.config["BADGES_LOCALES"]:
        response.set_cookie(LOCALE_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True)
    return response


def _security_headers(response):  # noqa: ANN001, ANN202 - Flask response
    """Add strict headers: no inline scripts, no framing, no sniffing, no referrer leaks."""
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response
