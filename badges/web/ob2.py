"""Blueprint ``ob2``: Open Badges 2.0 hosted documents for backpacks such as Open Badge Passport.

``/ob2/assertions/<award id>`` (Assertion), ``/ob2/assertions/<award id>.png`` (baked image),
``/ob2/badges/<version id>`` (BadgeClass), ``/ob2/issuers/<slug>`` (issuer Profile) and
``/ob2/issuers/<slug>/revocations`` (RevocationList). Public and read-only, like the OB 3.0
documents; every answer, errors included, is JSON.
"""

import json

from flask import Blueprint, Response, abort, request
from flask_babel import gettext as _

from badges import ob2, services
from badges.core.errors import BadgesError
from badges.db import get_session
from badges.web import current_site
from badges.web.messages import message_for

bp = Blueprint("ob2", __name__, url_prefix="/ob2")

JSON_LD = "application/ld+json"


def _json(document: object, *, status: int = 200, max_age: int = 300) -> Response:
    """Serve JSON-LD, or plain JSON to a client that asks only for that (OB 2.0 §Setting Content-Type)."""
    accept = request.accept_mimetypes
    plain = accept.best_match([JSON_LD, "application/json"]) == "application/json" and not accept[JSON_LD]
    response = Response(json.dumps(document, ensure_ascii=False, indent=2), status=status,
                        mimetype="application/json" if plain else JSON_LD)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    response.headers["Access-Control-Allow-Origin"] = "*"  # backpacks and validators read these
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.vary.add("Accept")
    return response


@bp.before_request
def reject_implausible_ids() -> None:
    """Answer 404 for ids no row can have (PostgreSQL refuses a NUL character in a query)."""
    if any("\x00" in str(value) or len(str(value)) > 100 for value in (request.view_args or {}).values()):
        abort(404)


@bp.errorhandler(BadgesError)
def _domain_error(error: BadgesError) -> Response:
    get_session().rollback()
    return _json({"error": error.code, "message": message_for(error)}, status=error.status, max_age=0)


@bp.errorhandler(404)
def _not_found(error: Exception) -> Response:
    return _json({"error": "not_found", "message": _("The page was not found. Check the address.")},
                 status=404, max_age=0)


@bp.get("/assertions/<public_id>")
def assertion(public_id: str):
    """Serve an award's Assertion; a revoked one answers 410 Gone with ``revoked: true``."""
    award = services.get_award(get_session(), public_id)
    document = ob2.assertion_document(current_site(), award)
    if award.revoked_at is not None:
        return _json(document, status=410, max_age=60)
    return _json(document, max_age=60)  # short: a revocation must show soon


@bp.get("/assertions/<public_id>.png")
def baked(public_id: str):
    """Serve the badge image with the Assertion baked in, to upload into a backpack."""
    award = services.get_award(get_session(), public_id)
    if award.revoked_at is not None:
        return _json(ob2.assertion_document(current_site(), award), status=410, max_age=60)
    response = Response(ob2.baked_png(current_site(), award), mimetype="image/png")
    response.headers["Content-Disposition"] = f'attachment; filename="{public_id}-ob2.png"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/badges/<public_id>")
def badge_class(public_id: str):
    """Serve a badge version as a BadgeClass."""
    version = services.get_achievement_version(get_session(), public_id)
    return _json(ob2.badge_class_document(current_site(), version))


@bp.get("/issuers/<slug>")
def issuer(slug: str):
    """Serve an organisation's issuer Profile."""
    organisation = services.get_organisation(get_session(), slug)
    return _json(ob2.issuer_document(current_site(), organisation))


@bp.get("/issuers/<slug>/revocations")
def revocations(slug: str):
    """Serve an organisation's RevocationList."""
    session = get_session()
    organisation = services.get_organisation(session, slug)
    return _json(ob2.revocation_list_document(session, current_site(), organisation), max_age=60)
