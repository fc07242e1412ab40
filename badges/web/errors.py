"""Map errors to pages (HTML) or JSON bodies in one place; never a stack trace."""

from flask import Flask, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from badges.core.errors import BadgesError
from badges.db import get_session
from badges.web.messages import message_for


def wants_json() -> bool:
    """Return True when the client prefers JSON to HTML."""
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "application/ld+json"])
    return best in ("application/json", "application/ld+json") or request.path.endswith(".json")


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        403: _("You do not have access to this page."),
        404: _("The page was not found. Check the address."),
        405: _("That action is not possible here."),
        413: _("The file is too large."),
        429: _("Too many attempts. Wait a moment and try again."),
        500: _("Something went wrong on our side. Nothing was saved. Please try again."),
    }


def _render(status: int, message: str, code: str):  # noqa: ANN202 - Flask response
    if wants_json():
        return {"error": code, "message": message}, status
    return render_template("errors/error.html", status=status, message=message), status


def handle_http(error: HTTPException):  # noqa: ANN201 - Flask response
    """Render an HTTP error in the user's language."""
    status = error.code or 500
    return _render(status, _messages().get(status, error.description or ""), f"http_{status}")


def handle_csrf(error: CSRFError):  # noqa: ANN201 - Flask response
    """Explain an expired or missing form token."""
    return _render(400, _("The form expired. Reload the page and try again."), "csrf")


def handle_domain(error: BadgesError):  # noqa: ANN201 - Flask response
    """Roll back and show the domain error's message."""
    get_session().rollback()
    return _render(error.status, message_for(error), error.code)


def handle_unexpected(error: Exception):  # noqa: ANN201 - Flask response
    """Roll back; show a calm message; the details go to the log only."""
    get_session().rollback()
    from flask import current_app

    from badges.weblog import route_template

    # The route, not the path: paths carry share tokens and reset links (badges.weblog).
    current_app.logger.exception("unhandled error on %s %s (request %s)", request.method, route_template(),
                                 g.get("request_id"))
    return _render(500, _messages()[500], "internal")


def init_app(app: Flask) -> None:
    """Register the handlers."""
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(BadgesError, handle_domain)
    if not app.testing:
        app.register_error_handler(Exception, handle_unexpected)
