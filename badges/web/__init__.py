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

    from badges.web.auth import LoginUser, password_fingerprint_matches

    user = get_session().scalar(select(User).where(User.public_id == user_id, User.is_active.is_(True)))
    # A changed password (e.g. a reset) ends every session that was started with the old one.
    if user is None or not password_fingerprint_matches(user):
        return None
    return LoginUser(user)


def init_app(app: Flask) -> None:
    """Register extensions, blueprints and handlers on ``app``."""
    from badges.web import (
        applications, auth, coach, errors, frameworks, home, library, limits, passport, people, public, sharing,
    )

    from badges import weblog

    weblog.init_app(app)  # first, so that its clock starts before any other handler runs
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    # Not "strong": for *permanent* sessions (every login makes one) Flask-Login's strong mode
    # only marks the session not fresh, exactly like "basic", while it would drop sessions
    # that were not made by a login. The protections that hold are a fresh session at login
    # (auth.start_session), its absolute lifetime, and the password fingerprint in load_user.
    login_manager.session_protection = "basic"
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    limits.init_app(app)
    babel.init_app(
        app, locale_selector=select_locale,
        default_translation_directories=str(PROJECT_ROOT / "translations"),
    )
    from badges.web import caching; caching.init_app(app)  # noqa: E702 - issue 6: HTTP caching, fast dates and links
    app.register_blueprint(auth.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(public.bp)
    for module in (frameworks, library, people, coach, passport, sharing, applications):
        app.register_blueprint(module.bp)
    app.register_blueprint(coach.evidence_bp)
    from badges.web import endorsements, ob2  # issue 5: endorsements and the Open Badges 2.0 export
    app.register_blueprint(endorsements.bp)
    app.register_blueprint(ob2.bp)
    from badges.web import verify; app.register_blueprint(verify.bp)  # noqa: E702 - issue 5: /verify and POST /api/v1/verify
    from badges.web import api  # issue 5: the JSON API (/api/v1) and the API token pages
    for blueprint in (api.bp, api.tokens_bp):
        app.register_blueprint(blueprint)
    errors.init_app(app)
    app.before_request(_refuse_nul)
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


def _refuse_nul() -> None:
    """Answer 400 to a NUL character in the address or form: no database stores one (PostgreSQL fails)."""
    from flask import abort

    # Only small url-encoded forms are read here: touching the body of an upload or a JSON
    # request would fix its size limit before a blueprint can set a stricter one.
    sources = [request.args]
    if request.mimetype == "application/x-www-form-urlencoded":
        sources.append(request.form)
    if "\x00" in request.path or any("\x00" in key or "\x00" in value
                                      for source in sources for key, value in source.items(multi=True)):
        abort(400)


def _remember_locale(response):  # noqa: ANN001, ANN202 - Flask response
    chosen = request.args.get("lang")
    if chosen in current_app.config["BADGES_LOCALES"]:
        response.set_cookie(LOCALE_COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True)
    return response


#: Sent with every response: scripts and styles only from our own files (no inline code),
#: no plug-ins, no framing, forms post only to us.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
#: Browser features no page needs. A photo is taken with <input type=file capture>, which
#: opens the phone's own camera app and needs no camera permission for the page.
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), "
    "hid=(), midi=(), display-capture=(), browsing-topics=()"
)


def _security_headers(response):  # noqa: ANN001, ANN202 - Flask response
    """Add strict headers: no inline scripts, no framing, no sniffing, no referrer leaks."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    # A page we open in a new window cannot reach back into ours (window.opener), nor we into it.
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    return response
