"""Blueprint ``public``: the stable URLs written into signed credentials.

Issuer profiles and DID documents, achievements, credentials (page, JSON, baked PNG/SVG)
and status lists. Everything here is read-only and needs no account. The documents carry an
ETag and a lifetime by how often they change (see :mod:`badges.web.caching`): credentials and
badge images never do, DID documents, profiles and achievements now and then, status lists
often.
"""

import json

from flask import Blueprint, Response, current_app, render_template, request
from flask_login import current_user

from badges import services
from badges.core.baking import bake_png, bake_svg
from badges.db import get_session
from badges.web import caching, current_site, utcnow

bp = Blueprint("public", __name__)

JSON_LD = "application/ld+json"
VC_JSON = "application/vc+ld+json"


def _prefers_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", JSON_LD, "application/json", "application/did+json"])
    return best not in (None, "text/html")


def _json(document: object, mimetype: str, *, max_age: int = caching.DOCUMENT) -> Response:
    response = Response(json.dumps(document, ensure_ascii=False, indent=2), mimetype=mimetype)
    response.headers["Access-Control-Allow-Origin"] = "*"  # verifiers in browsers must read these
    response.vary.add("Accept")
    return caching.public(response, max_age=max_age)


def _no_index(response: Response) -> Response:
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("/issuers/<slug>")
def issuer(slug: str):
    """Show the issuer's profile page, or its OB 3.0 Profile as JSON-LD."""
    organisation = services.get_organisation(get_session(), slug)
    site = current_site()
    if _prefers_json():
        return _json(services.issuer_profile(site, organisation), JSON_LD)
    return render_template(
        "public/issuer.html", organisation=organisation, did=site.issuer_did(slug),
        keys=organisation.keys,
    )


@bp.get("/issuers/<slug>/did.json")
def did_document(slug: str):
    """Serve the issuer's DID document (did:web), current and retired keys."""
    organisation = services.get_organisation(get_session(), slug)
    return _json(services.did_document(current_site(), organisation), "application/did+json")


@bp.get("/achievements/<public_id>")
def achievement(public_id: str):
    """Show what a badge means, or the Achievement as JSON-LD."""
    version = services.get_achievement_version(get_session(), public_id)
    if _prefers_json():
        return _json(services.achievement_document(current_site(), version), JSON_LD)
    return render_template("public/achievement.html", version=version, organisation=version.achievement.organisation)


@bp.get("/achievements/<public_id>/image.png")
def achievement_image(public_id: str):
    """Serve the badge image."""
    version = services.get_achievement_version(get_session(), public_id)
    return caching.public(Response(version.image_png, mimetype="image/png"), max_age=caching.IMMUTABLE, immutable=True)


@bp.get("/credentials/<public_id>")
def credential(public_id: str):
    """Show a credential to a person: what, by whom, when, and whether it still stands."""
    award = services.get_award(get_session(), public_id)
    document = json.loads(award.document)
    is_owner = current_user.is_authenticated and current_user.user.id == award.recipient_id
    response = Response(render_template(
        "public/credential.html", award=award, document=document, version=award.achievement_version,
        organisation=award.organisation, now=utcnow(), is_owner=is_owner,
    ))
    return _no_index(response)


def _download(public_id: str, body: bytes | str, mimetype: str, extension: str) -> Response:
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{public_id}.{extension}"'
    response.headers["Access-Control-Allow-Origin"] = "*"  # independent verifiers may fetch it
    # A credential never changes once signed (a revocation changes the status list instead).
    return caching.public(_no_index(response), max_age=caching.IMMUTABLE, immutable=True)


@bp.get("/credentials/<public_id>.json")
def credential_json(public_id: str):
    """Serve the credential exactly as signed (application/vc+ld+json)."""
    award = services.get_award(get_session(), public_id)
    return _download(public_id, award.document, VC_JSON, "json")


@bp.get("/credentials/<public_id>.png")
def credential_png(public_id: str):
    """Serve the badge image with the credential baked in (OB 3.0 iTXt chunk)."""
    award = services.get_award(get_session(), public_id)
    return _download(public_id, bake_png(award.achievement_version.image_png, award.document), "image/png", "png")


@bp.get("/credentials/<public_id>.svg")
def credential_svg(public_id: str):
    """Serve the badge image as SVG with the credential baked in."""
    award = services.get_award(get_session(), public_id)
    return _download(public_id, bake_svg(award.achievement_version.image_svg, award.document), "image/svg+xml", "svg")


@bp.get("/status/<public_id>")
def status_list(public_id: str):
    """Serve a signed BitstringStatusListCredential (short cache: revocations show fast)."""
    status = services.get_status_list(get_session(), public_id)
    response = Response(status.document, mimetype=VC_JSON)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return caching.public(response, max_age=caching.STATUS_LIST)


@bp.get("/healthz")
def healthz():
    """Say whether the process is up and its database answers (for load balancers and monitors)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    session = get_session()
    try:
        session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        session.rollback()
        # The kind of failure only: a driver message may quote the connection string.
        current_app.logger.warning("health check: database unreachable (%s)", error.__class__.__name__)
        return {"status": "error", "database": "unreachable"}, 503, {"Cache-Control": "no-store"}
    return {"status": "ok", "database": "ok"}, 200, {"Cache-Control": "no-store"}


