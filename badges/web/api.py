"""Blueprint ``api`` (``/api/v1``): the JSON API for integrations, and ``api_tokens``: the token pages.

Every API request is authenticated by a personal access token in ``Authorization: Bearer``;
the session cookie never counts, which is why the blueprint may be exempt from CSRF. Each
operation is declared in ``badges.api_spec``: the ``operation`` decorator checks the token's
scope, the query parameters and the JSON body against the published document, commits once,
and keeps the answer of a request sent with an ``Idempotency-Key`` for its retries. Errors are
always JSON ``{"code", "message"}`` in the request's language; objects of other organisations
or people answer 404.
"""

import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address
from flask_login import login_required
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from badges import api_spec, api_tokens, awarding, jobs, passport, sharing
from badges.api_tokens import ApiError
from badges.core.errors import BadgesError
from badges.db import get_session
from badges.models import Achievement, ApiToken, Award, Job, Organisation, Share, User
from badges.web import csrf, current_site, utcnow
from badges.web.access import me
from badges.web.limits import limiter
from badges.web.messages import message_for, register

bp = Blueprint("api", __name__, url_prefix=api_spec.BASE_PATH)
tokens_bp = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")

#: Largest JSON body the API reads (a full bulk request of 1,000 items with long notes fits).
MAX_BODY = 4 * 1024 * 1024
#: Requests per token (or per address without one); BADGES_API_RATE_LIMIT overrides it.
RATE_LIMIT = "600 per minute"

MESSAGES: dict[str, Any] = {
    "token_missing": _l("Send a personal access token in the header Authorization: Bearer <token>."),
    "token_invalid": _l("The access token is not valid."),
    "token_expired": _l("The access token has expired. Create a new one."),
    "token_revoked": _l("The access token was revoked. Create a new one."),
    "insufficient_scope": _l("The access token does not allow this. Create a token with the scope it needs."),
    "role_required": _l("Your account no longer has the role this needs."),
    "not_allowed": _l("You may not do this to this object."),
    "not_found": _l("Not found."),
    "method_not_allowed": _l("This method is not allowed here."),
    "bad_request": _l("The request could not be understood."),
    "invalid_json": _l("The request body is not valid JSON."),
    "unsupported_media_type": _l("Send the request body as JSON (Content-Type: application/json)."),
    "payload_too_large": _l("The request body is too large."),
    "validation_failed": _l("The request is not valid. See the details."),
    "unknown_parameter": _l("The request has a parameter that this operation does not know."),
    "invalid_parameter": _l("A parameter of the request is not valid."),
    "invalid_cursor": _l("The page cursor is not valid. Start from the first page."),
    "invalid_idempotency_key": _l("The Idempotency-Key must be 1 to 200 visible ASCII characters."),
    "idempotency_key_reused": _l("This Idempotency-Key was already used for a different request."),
    "conflict": _l("Another request changed the same data at the same moment. Try again."),
    "rate_limited": _l("Too many requests. Wait a moment and try again."),
    "internal": _l("Something went wrong on our side. Nothing was saved. Please try again."),
}

register({
    "share_unknown_qualification": _l("None of your valid badges is aligned to that qualification."),
    "token_name_missing": _l("Give the token a name."),
    "token_name_too_long": _l("The name is too long (at most 100 characters)."),
    "token_no_scopes": _l("Choose at least one thing the token may do."),
    "token_unknown_scope": _l("Choose only among the offered permissions."),
    "token_scope_not_allowed": _l("Your roles do not allow a chosen permission."),
    "token_expiry": _l("Choose a validity between one day and ten years."),
})

#: What each scope lets a token do, in plain words for the token page.
SCOPE_LABELS: dict[str, Any] = {
    "badges:read": _l("See the badge definitions of my organisations"),
    "clients:read": _l("See the clients of my organisations"),
    "awards:read": _l("See awards and bulk awards of my organisations"),
    "awards:write": _l("Award and revoke badges"),
    "passport:read": _l("See my own badges and progress"),
    "shares:read": _l("See my shares and who opened them"),
    "shares:write": _l("Make and stop shares of my badges"),
}

#: Domain error codes whose HTTP status is "conflict with the object's state".
_CONFLICTS = {"badge_retired", "already_revoked", "job_not_draft", "job_not_failed"}


@dataclass
class Answer:
    """What a view returns: a JSON body and status, and work to do once the transaction is committed."""

    body: Any
    status: int = 200
    location: str | None = None
    after_commit: Callable[[], None] | None = field(default=None, repr=False)


# --- set-up, errors ------------------------------------------------------------------------------------------


@bp.record_once
def _setup(state: Any) -> None:
    # Bearer tokens only (never the cookie) authenticate here, so a forged cross-site form
    # cannot act: the CSRF check has nothing to protect.
    csrf.exempt(bp)
    state.app.config.setdefault("BADGES_API_RATE_LIMIT", RATE_LIMIT)


def _rate_limit() -> str:
    return current_app.config["BADGES_API_RATE_LIMIT"]


def rate_key() -> str:
    """Key the API's rate limit on the bearer token (a hash of it), else on the client address."""
    scheme, _sep, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return "api-token:" + api_tokens.hash_token(value.strip())[:32]
    return "api-address:" + (get_remote_address() or "")


limiter.limit(_rate_limit, key_func=rate_key)(bp)


def _message(code: str, error: BadgesError | None = None) -> str:
    if code in MESSAGES:
        return str(MESSAGES[code])
    return message_for(error) if error is not None else str(MESSAGES["bad_request"])


def error_response(status: int, code: str, *, error: BadgesError | None = None,
                   details: list[dict[str, Any]] | None = None, headers: dict[str, str] | None = None) -> Response:
    """Return the JSON error ``{"code", "message"[, "details"]}`` with ``status``."""
    body: dict[str, Any] = {"code": code, "message": _message(code, error)}
    if details:
        body["details"] = details
    response = current_app.json.response(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _status_of(error: BadgesError) -> int:
    if isinstance(error, ApiError):
        return error.status
    if error.code in _CONFLICTS:
        return 409
    # A domain rule that the request broke (unknown client, date out of range …): the body was
    # well-formed but cannot be carried out.
    return 422 if error.status == 400 else error.status


@bp.errorhandler(BadgesError)
def _domain_error(error: BadgesError) -> Response:
    get_session().rollback()
    details = getattr(error, "details", None) or None
    return error_response(_status_of(error), error.code, error=error, details=details)


_HTTP_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
               415: "unsupported_media_type", 429: "rate_limited"}


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    get_session().rollback()
    status = error.code or 500
    headers: dict[str, str] = {}
    if status == 429:
        headers["Retry-After"] = str(_retry_after())
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    return error_response(status, _HTTP_CODES.get(status, "bad_request" if status < 500 else "internal"),
                          headers=headers)


def _retry_after() -> int:
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    get_session().rollback()
    if current_app.testing:
        raise error  # tests see the real failure
    current_app.logger.exception("unhandled API error on %s %s", request.method, request.path)
    return error_response(500, "internal")


@bp.before_request
def _limit_body() -> None:
    request.max_content_length = MAX_BODY


@bp.after_request
def _no_store(response: Response) -> Response:
    # Answers carry personal data and tokens' views of it: never cache them anywhere.
    if request.endpoint not in ("api.openapi", "api.docs"):
        response.headers["Cache-Control"] = "no-store"
    return response


# --- the operation decorator --------------------------------------------------------------------------------


def _bearer() -> str:
    header = request.headers.get("Authorization")
    if not header:
        raise ApiError("token_missing", "no token", status=401)
    scheme, _sep, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError("token_missing", "no bearer token", status=401)
    return value.strip()


def _json_body(schema: str) -> Any:
    mimetype = request.mimetype or ""
    if mimetype != "application/json" and not (mimetype.startswith("application/") and mimetype.endswith("+json")):
        raise ApiError("unsupported_media_type", "the body must be JSON", status=415)
    raw = request.get_data(cache=True)

    def refuse_constant(name: str) -> None:
        raise ValueError(name)

    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ApiError("invalid_json", "the body is not JSON", status=400) from None
    problems = api_spec.body_problems(schema, data)
    if problems:
        raise ApiError("validation_failed", "the body does not match the schema", status=422, details=problems)
    return data


def _query(operation_id: str) -> dict[str, Any]:
    try:
        return api_spec.parse_query(operation_id, request.args.to_dict(flat=False))
    except api_spec.QueryError as error:
        code = "unknown_parameter" if error.unknown else "invalid_parameter"
        raise ApiError(code, f"query parameter {error.name}", status=400,
                       details=[{"path": error.name, "code": code, "message": _message(code)}]) from None


def _json_response(body: Any, status: int, location: str | None, replayed: bool) -> Response:
    response = current_app.json.response(body)
    response.status_code = status
    if location:
        response.headers["Location"] = location
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def _replay(stored: Any) -> Response:
    body = json.loads(stored.response)
    location = body.get("url") if isinstance(body, dict) and stored.status_code in (201, 202) else None
    return _json_response(body, stored.status_code, location, replayed=True)


def operation(operation_id: str) -> Callable[[Callable[..., Answer]], Callable[..., Response]]:
    """Serve a view as the API operation ``operation_id`` of the document (auth, scope, input, commit)."""
    spec = api_spec.BY_ID[operation_id]

    def decorator(view: Callable[..., Answer]) -> Callable[..., Response]:
        @wraps(view)
        def wrapped(**path: str) -> Response:
            session = get_session()
            now = utcnow()
            if not spec.public:
                token = api_tokens.authenticate(session, _bearer(), now=now)
                if spec.scopes:
                    api_tokens.require_scope(session, token, spec.scopes)
                g.api_token = token
                # Commit "last used" now: holding that row's lock through the work would make
                # every request of one token wait for the one before it.
                session.commit()
            for name, value in path.items():
                if not api_spec.path_ok(operation_id, name, value):
                    raise ApiError("invalid_parameter", name, status=400,
                                   details=[{"path": name, "code": "invalid_parameter",
                                             "message": _message("invalid_parameter")}])
            query = _query(operation_id)
            body = _json_body(spec.body) if spec.body else None
            key = api_tokens.check_idempotency_key(request.headers.get("Idempotency-Key")) if spec.idempotent else None
            user = g.api_token.user if not spec.public else None
            digest = api_tokens.fingerprint(request.method, request.path, body) if key else ""
            if key:
                stored = api_tokens.stored_answer(session, user, key, digest, now=now)
                if stored is not None:
                    return _replay(stored)
            try:
                answer = view(query=query, body=body, now=now, **path)
                text = json.dumps(answer.body, ensure_ascii=False, separators=(",", ":"))
                if key and 200 <= answer.status < 300:
                    api_tokens.store_answer(session, user, key, digest, status=answer.status, body=text, now=now)
                session.commit()
            except IntegrityError:
                # A concurrent twin (same key) committed first: answer as it did, never act twice.
                session.rollback()
                stored = api_tokens.stored_answer(session, user, key, digest, now=now) if key else None
                if stored is None:
                    raise ApiError("conflict", "a concurrent change", status=409) from None
                return _replay(stored)
            if answer.after_commit is not None:
                answer.after_commit()
            return _json_response(answer.body, answer.status, answer.location, replayed=False)

        return wrapped

    return decorator


def _token() -> ApiToken:
    return g.api_token


def _user() -> User:
    return g.api_token.user


def _language() -> str:
    return str(get_locale())


# --- representations -------------------------------------------------------------------------------------------


def award_status(award: Award, now: Any) -> str:
    """Return ``valid``, ``expired`` or ``revoked``."""
    if award.revoked_at is not None:
        return "revoked"
    return "expired" if passport.is_expired(award, now) else "valid"


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def award_json(award: Award, now: Any) -> dict[str, Any]:
    """Return an award as the API shows it to staff (ids only: no names of people)."""
    version = award.achievement_version
    return {
        "id": award.public_id,
        "organisation": award.organisation.slug,
        "badge": version.achievement.public_id,
        "badge_version": version.public_id,
        "badge_name": version.name,
        "client": award.recipient.public_id,
        "issued_by": award.issued_by.public_id if award.issued_by else None,
        **_award_state(award, now),
        "url": url_for("api.get_award", award_id=award.public_id),
    }


def _award_state(award: Award, now: Any) -> dict[str, Any]:
    """Return the dates, state and verification page of an award (shared by staff and holder views)."""
    return {
        "issued_at": _time(award.issued_at),
        "valid_until": _time(award.valid_until),
        "status": award_status(award, now),
        "revoked_at": _time(award.revoked_at),
        "revocation_reason": award.revocation_reason,
        "credential_url": current_site().credential_url(award.public_id),
    }


def badge_json(achievement: Achievement) -> dict[str, Any]:
    """Return a badge definition (its current version)."""
    version = achievement.current
    site = current_site()
    return {
        "id": achievement.public_id,
        "organisation": achievement.organisation.slug,
        "name": version.name,
        "description": version.description,
        "criteria": version.criteria_narrative,
        "language": version.language,
        "version": version.number,
        "version_id": version.public_id,
        "achievement_url": site.achievement_url(version.public_id),
        "image_url": site.url(url_for("public.achievement_image", public_id=version.public_id)),
        "alignments": [a for a in version.alignments or [] if isinstance(a, dict)],
        "valid_days": version.valid_days,
        "catalogue_ref": achievement.catalogue_ref,
        "retired": achievement.retired_at is not None,
    }


def job_json(job: Job) -> dict[str, Any]:
    """Return a bulk job's progress and outcome."""
    error = None
    if job.status == "failed":
        failure = job.payload.get("failure") or {}
        code = failure.get("code", "internal")
        internal = code in ("internal", "integrity", "unknown_kind")
        error = {
            "code": code,
            "item": failure.get("line") if isinstance(failure.get("line"), int) else None,
            "message": str(MESSAGES["internal"]) if internal else message_for(awarding.AwardingError(code, code)),
        }
    return {
        "id": job.public_id,
        "organisation": _organisation_slug(job),
        "status": job.status if job.status in ("queued", "running", "done", "failed") else "queued",
        "done": job.done,
        "total": job.total,
        "created_at": _time(job.created_at),
        "finished_at": _time(job.finished_at),
        "error": error,
        "url": url_for("api.get_job", job_id=job.public_id),
        "awards_url": url_for("api.list_awards", job=job.public_id),
    }


def _organisation_slug(job: Job) -> str:
    organisation = get_session().get(Organisation, job.organisation_id)
    return organisation.slug if organisation else ""


def passport_award_json(award: Award, now: Any, language: str) -> dict[str, Any]:
    """Return one of the holder's own awards with its texts in ``language`` where the badge has them."""
    texts = passport.texts_of(award, language)
    return {
        "id": award.public_id,
        "badge_name": texts.name,
        "description": texts.description,
        "language": texts.language,
        "issuer": {"slug": award.organisation.slug, "name": award.organisation.name},
        **_award_state(award, now),
    }


def share_json(share: Share, now: Any) -> dict[str, Any]:
    """Return a share as its client sees it (the link itself is never stored, so never shown again)."""
    qualification = share.qualification
    return {
        "id": share.public_id,
        "scope": share.scope,
        "purpose": share.purpose,
        "recipient": share.recipient_label,
        "recipient_account": share.recipient_user_id is not None,
        "include_evidence": share.include_evidence,
        "qualification": f"{qualification.source}:{qualification.source_id}" if qualification else None,
        "awards": [a.public_id for a in share.awards],
        "created_at": _time(share.created_at),
        "expires_at": _time(share.expires_at),
        "revoked_at": _time(share.revoked_at),
        "status": sharing.share_status(share, now),
        "accesses": len(share.accesses),
    }


def _document(award: Award) -> Any:
    try:
        return json.loads(award.document)
    except ValueError:
        return {}


# --- account --------------------------------------------------------------------------------------------------------


@bp.get("/me")
@operation("getMe")
def get_me(*, query: dict[str, Any], body: Any, now: Any) -> Answer:
    """Return the token's person, usable scopes and organisations with roles."""
    session = get_session()
    user = _user()
    allowed = set(api_tokens.allowed_scopes(session, user))
    return Answer({
        "id": user.public_id,
        "name": user.display_name,
        "scopes": [scope for scope in api_tokens.scopes_of(_token()) if scope in allowed],
        "organisations": [
            {"slug": organisation.slug, "name": organisation.name, "roles": sorted(set(roles))}
            for organisation, roles in api_tokens.memberships_of(session, user).items()
        ],
    })


# --- awarding (staff) ---------------------------------------------------------------------------------------------------


@bp.get("/orgs/<slug>/badges")
@operation("listBadges")
def list_badges(slug: str, *, query: dict[str, Any], body: Any, now: Any) -> Answer:
    """List the organisation's badge definitions."""
    session = get_session()
    organisation = api_tokens.staff_organisation(session, _user(), slug)
    badges = api_tokens.badges_of(session, organisation, include_retired=query["include_retired"])
    return Answer({"items": [badge_json(a) for a in badges]})


@bp.get("/orgs/<slug>/clients")
@operation("listClients")
def list_clients(slug: str, *, query: dict[str, Any], body: Any, now: Any) -> Answer:
    """List the organisation's clients, a page at a time."""
    session = get_session()
    organisation = api_tokens.staff_organisation(session, _user(), slug)
    page = api_tokens.client_page(session, organisation, email=query.get("email"), cursor=query.get("cursor"),
                                  limit=query["limit"])
    return Answer({
        "items": [{"id": u.public_id, "name": u.display_name, "email": u.email, "client_since": _time(since)}
                  for u, since in page.items],
        "next_cursor": page.next_cursor,
    })


@bp.post("/awards")
@operation("createAward")
def create_award(*, query: dict[str, Any], body: dict[str, Any], now: Any) -> Answer:
    """Award one badge to one client (idempotent with a key)."""
    session = get_session()
    user = _user()
    organisation, achievement, client = api_tokens.award_target(session, user, body["badge"], body["client"])
    observed = api_spec.as_date(body.get("observed_on"))
    if observed is not None:
        awarding.check_observed(observed, today=awarding.finnish_today(now))
    key = request.headers.get("Idempotency-Key")
    try:
        award = awarding.award_one(
            session, current_site(), organisation, version=achievement.current, recipient=client, now=now,
            issued_by=user, note=(body.get("narrative") or "").strip() or None, observed=observed,
            key=api_tokens.award_key(user, key) if key else "api:" + secrets.token_hex(16),
        )
    except awarding.AwardingError as error:
        if error.code != "form_expired":
            raise
        # The key made another award more than a day ago (its stored answer is gone).
        raise ApiError("idempotency_key_reused", "the key was used for another award", status=422) from None
    payload = award_json(award, now)
    return Answer(payload, 201, location=payload["url"])


@bp.post("/awards/bulk")
@operation("createBulkAward")
def create_bulk_award(*, query: dict[str, Any], body: dict[str, Any], now: Any) -> Answer:
    """Check a bulk request and queue it as a background job."""
    session = get_session()
    user = _user()
    organisation = api_tokens.staff_organisation(session, user, body["organisation"])
    rows, problems = api_tokens.check_bulk_rows(session, organisation, body["awards"],
                                                today=awarding.finnish_today(now))
    if problems:
        raise ApiError("validation_failed", "some items cannot be awarded", status=422, details=[
            {**p, "message": message_for(awarding.AwardingError(p["code"], p["code"]))} for p in problems[:100]
        ])
    job = awarding.create_job(session, organisation, rows=rows, created_by=user, now=now, source="api")
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    payload = job_json(job)
    return Answer(payload, 202, location=payload["url"], after_commit=lambda: jobs.enqueue(app, job))


@bp.get("/awards")
@operation("listAwards")
def list_awards(*, query: dict[str, Any], body: Any, now: Any) -> Answer:
    """List awards of the token's organisations with filters, a page at a time."""
    filters = api_tokens.AwardQuery(
        organisation=query.get("organisation"), badge=query.get("badge"), client=query.get("client"),
        status=query.get("status"), issued_from=api_spec.as_date(query.get("issued_from")),
        issued_to=api_spec.as_date(query.get("issued_to")), job=query.get("job"),
    )
    page = api_tokens.award_page(get_session(), _user(), filters, cursor=query.get("cursor"),
                                 limit=query["limit"], now=now)
    return Answer({"items": [award_json(a, now) for a in page.items], "next_cursor": page.next_cursor})


@bp.get("/awards/<award_id>")
@operation("getAward")
def get_award(award_id: str, *, query: dict[str, Any], body: Any, now: Any) -> Answer:
    """Return one award with its signed credential."""
    award = api_tokens.staff_award(get_session(), _user(), award_id)
    return Answer({**award_json(award, now), "credential": _document(award)})


@bp.post("/awards/<award_id>/revoke")
@operation("revokeAward")
def revoke_award(award_id: str, *, query: dict[str, Any], body: dict[str, Any], now: Any) -> Answer:
    """Revoke an award with a reason (admins: any of the organisation's; coaches: their own)."""
    session = get_session()
    user = _user()
    award = api_tokens.staff_award(session, user, award_id)
    if not awarding.can_revoke(award, user, api_tokens.staff_roles(session, user, award.organisation)):
        raise ApiError("not_allowed", "only an admin or the coach who issued it may revoke", status=403)
    awarding.revoke(session, current_site(), award, reason=body["reason"], actor=user, now=now)
    return Answer(award_json(award, now))


@bp.get("/jobs/<job_id>")
@operation("getJob")
def get_job(job_id: str, *, query: dict[str, Any], body: Any, now: Any) -> Answer:
    """Return a bulk job's progress."""
    return Answer(job_json(api_tokens.staff_job(get_session(), _user(), job_id)))


# --- passport and shares (clients) ---------------------------------------------------------------------------------------


@bp.get("/me/passport")
@operation("getPassport")
def get_passport(*, query: dict[str, Any], body: Any, now: Any) -> Answer:
    """Return the holder's badges and progress toward qualification units."""
    session = get_session()
    user = _user()
    language = _language()
    awards = passport.own_awards(session, user)
    progress = passport.progress(session, awards, now=now, language=language)
    return Answer({
        "holder": {"id": user.public_id, "name": user.display_name},
        "awards": [passport_award_json(a, now, language) for a in awards],
        "progress": [
            {
                "qualification": {"key": f"{group.qualification.source}:{group.qualification.source_id}",
                                  "source": group.qualification.source, "name": group.name},
                "units": [{"code": u.unit.code, "name": u.name, "requirements": u.total, "evidenced": u.evidenced,
                           "awards": [a.public_id for a in u.awards]} for u in group.units],
            }
            for group in progress
        ],
    })


@bp.get("/me/awards/<award_id>")
@operation("getOwnAward")
def get_own_award(award_id: str, *, query: dict[str, Any], body: Any, now: Any) -> Answer:
    """Return one of the holder's awards with its signed credential."""
    award = passport.own_award(get_session(), _user(), award_id)
    if award is None:
        raise ApiError("not_found", "no such award", status=404)
    return Answer({**passport_award_json(award, now, _language()), "credential": _document(award)})


@bp.post("/me/shares")
@operation("createShare")
def create_share(*, query: dict[str, Any], body: dict[str, Any], now: Any) -> Answer:
    """Make a share and return its link, once."""
    session = get_session()
    user = _user()
    recipient_user = None
    if body.get("recipient_email"):
        recipient_user = sharing.find_professional(session, body["recipient_email"])
        if recipient_user is None:
            raise sharing.SharingError("share_no_professional", "no professional account has that e-mail address")
    qualification = None
    if body.get("qualification"):
        offered = {f"{q.source}:{q.source_id}": q for q in sharing.qualifications_for_client(session, user, now=now)}
        qualification = offered.get(body["qualification"])
        if qualification is None:
            raise sharing.SharingError("share_unknown_qualification", "no valid badge is aligned to it")
    share, token = sharing.create_share(
        session, client=user, scope=body["scope"], purpose=body["purpose"], now=now,
        recipient_label=body.get("recipient"), recipient_user=recipient_user, award_ids=body.get("awards", []),
        qualification=qualification, include_evidence=body.get("include_evidence", False),
        expires_on=api_spec.as_date(body.get("expires_on")),
    )
    payload = {**share_json(share, now), "url": current_site().url(url_for("sharing.public_share", token=token))}
    return Answer(payload, 201, location=url_for("api.list_share_accesses", share_id=share.public_id))


@bp.get("/me/shares")
@operation("listShares")
def list_shares(*, query: dict[str, Any], body: Any, now: Any) -> Answer:
    """List the holder's shares, newest first."""
    return Answer({"items": [share_json(s, now) for s in sharing.shares_for_client(get_session(), _user())]})


def _own_share(share_id: str) -> Share:
    share = sharing.client_share(get_session(), _user(), share_id)
    if share is None:
        raise ApiError("not_found", "no such share", status=404)
    return share


@bp.delete("/me/shares/<share_id>")
@operation("revokeShare")
def revoke_share(share_id: str, *, query: dict[str, Any], body: Any, now: Any) -> Answer:
    """Stop a share at once."""
    share = sharing.revoke_share(get_session(), _own_share(share_id), now=now)
    return Answer(share_json(share, now))


@bp.get("/me/shares/<share_id>/accesses")
@operation("listShareAccesses")
def list_share_accesses(share_id: str, *, query: dict[str, Any], body: Any, now: Any) -> Answer:
    """List every opening of a share."""
    share = _own_share(share_id)
    return Answer({"items": [{"at": _time(a.at), "device": a.device, "via": a.via} for a in share.accesses]})


# --- the document, the docs page and unknown paths -------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi() -> Response:
    """Serve the OpenAPI 3.1 document (public)."""
    response = current_app.json.response(api_spec.document(current_site().url(api_spec.BASE_PATH)))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


@bp.get("/docs")
def docs() -> str:
    """Show the API reference as a plain, accessible page built from the same document."""
    document = api_spec.document(current_site().url(api_spec.BASE_PATH))
    return render_template("api/docs.html", doc=document, operations=_docs_operations(document),
                           scope_labels=SCOPE_LABELS, type_of=type_of,
                           pretty=lambda value: json.dumps(value, indent=2, ensure_ascii=False))


@bp.app_template_filter("inline_code")
def inline_code(text: Any) -> Markup:
    """Escape ``text`` and show its `backtick` spans as code (the document's descriptions use them)."""
    escaped = str(escape(str(text)))
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped))  # noqa: S704 - escaped first  # nosec B704


def type_of(schema: Any) -> str:
    """Return a schema's type in a few words for the docs page, e.g. ``array of Award`` or ``string (date)``."""
    if not isinstance(schema, dict):
        return "any"
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "oneOf" in schema or "anyOf" in schema:
        return " | ".join(type_of(s) for s in schema.get("oneOf") or schema.get("anyOf"))
    kind = schema.get("type", "object" if "properties" in schema else "any")
    kinds = kind if isinstance(kind, list) else [kind]
    words = []
    for one in kinds:
        if one == "array":
            words.append("array of " + type_of(schema.get("items", {})))
        elif one == "string" and "enum" in schema:
            words.append("one of " + ", ".join(schema["enum"]))
        elif one == "string" and "format" in schema:
            words.append(f"string ({schema['format']})")
        else:
            words.append(str(one))
    return " | ".join(words)


def _docs_operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the document's operations grouped by tag, in the document's order."""
    groups: dict[str, list[dict[str, Any]]] = {tag["name"]: [] for tag in document.get("tags", [])}
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            groups.setdefault(op["tags"][0], []).append({
                "method": method.upper(), "path": api_spec.BASE_PATH + path, "op": op,
                "body_schema": (body.get("schema") or {}).get("$ref", "").rsplit("/", 1)[-1] or None,
                "body_example": body.get("example"),
                "responses": [
                    (status, response.get("description", ""),
                     ((response.get("content") or {}).get("application/json", {}).get("schema") or {})
                     .get("$ref", "").rsplit("/", 1)[-1] or None)
                    for status, response in op["responses"].items()
                ],
            })
    tags = {tag["name"]: tag for tag in document.get("tags", [])}
    return [{"tag": tags.get(name, {"name": name}), "operations": ops} for name, ops in groups.items() if ops]


_OWN_ENDPOINTS = ("api.unknown", "api.unknown_root", "static")


def _allowed_methods() -> list[str]:
    adapter = current_app.url_map.bind_to_environ(request.environ)
    allowed = []
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        try:
            endpoint, _args = adapter.match(method=method)
        except HTTPException:
            continue
        if endpoint not in _OWN_ENDPOINTS:
            allowed.append(method)
    return allowed


@bp.route("/", endpoint="unknown_root", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:rest>", endpoint="unknown", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str = "") -> Response:
    """Answer any other path or method under /api/v1 in JSON: 405 with Allow, or 404."""
    allowed = _allowed_methods()
    if allowed:
        raise MethodNotAllowed(valid_methods=allowed)
    raise NotFound()


# --- the token pages ---------------------------------------------------------------------------------------------------------


EXPIRY_CHOICES = [SelectChoice("30", _l("30 days")), SelectChoice("90", _l("90 days")),
                  SelectChoice("365", _l("One year")), SelectChoice("never", _l("No expiry"))]


class TokenForm(FlaskForm):
    """A new personal access token: a name, what it may do, how long it lasts."""

    name = StringField(_l("Name of the token"), validators=[
        DataRequired(message=_l("Give the token a name.")), Length(max=api_tokens.MAX_NAME)],
        description=_l('Where you use it, for example "case-management system".'))
    scopes = SelectMultipleField(_l("What the token may do"), choices=[], validators=[
        DataRequired(message=_l("Choose at least one thing the token may do."))])
    expires = SelectField(_l("Valid for"), choices=EXPIRY_CHOICES, default="90")


class RevokeTokenForm(FlaskForm):
    """A button that revokes a token (CSRF-protected)."""


def _token_page(form: TokenForm, status: int = 200) -> tuple[str, int]:
    session = get_session()
    user = me()
    return render_template(
        "api/tokens.html", form=form, tokens=api_tokens.tokens_of(session, user), now=utcnow(),
        allowed=api_tokens.allowed_scopes(session, user), scope_labels=SCOPE_LABELS, revoke_form=RevokeTokenForm(),
        state=api_tokens.token_state,
    ), status


def _token_form() -> TokenForm:
    form = TokenForm()
    allowed = api_tokens.allowed_scopes(get_session(), me())
    form.scopes.choices = [SelectChoice(scope, str(SCOPE_LABELS[scope])) for scope in allowed]
    return form


@tokens_bp.get("/")
@login_required
def tokens() -> tuple[str, int]:
    """List the person's tokens and offer a new one."""
    return _token_page(_token_form())


@tokens_bp.post("/")
@login_required
def create_token() -> Any:
    """Create a token and show it this once."""
    form = _token_form()
    if not form.validate_on_submit():
        return _token_page(form, 400)
    session = get_session()
    now = utcnow()
    days = form.expires.data
    try:
        token, text = api_tokens.create_token(
            session, me(), name=form.name.data or "", scopes=form.scopes.data or [], now=now,
            expires_at=now + timedelta(days=int(days)) if days and days.isdigit() else None,
        )
    except ApiError as error:
        session.rollback()
        form.scopes.errors = [*form.scopes.errors, message_for(error)]
        return _token_page(form, 400)
    session.commit()
    response = Response(render_template("api/token_created.html", token=token, text=text,
                                        scope_labels=SCOPE_LABELS, docs_url=url_for("api.docs")))
    response.headers["Cache-Control"] = "no-store"
    return response


@tokens_bp.post("/<public_id>/revoke")
@login_required
def revoke_token(public_id: str) -> Any:
    """Revoke one of the person's tokens."""
    session = get_session()
    token = api_tokens.own_token(session, me(), public_id)
    if token is None:
        abort(404)
    if not RevokeTokenForm().validate_on_submit():
        abort(400)
    api_tokens.revoke_token(session, token, now=utcnow())
    session.commit()
    flash(_("The token “%(name)s” was revoked. Programs that use it stop working now.", name=token.name), "success")
    return redirect(url_for("api_tokens.tokens"))
