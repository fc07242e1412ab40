"""Blueprint ``verify``: check a badge without an account, as a page and as ``POST /api/v1/verify``.

``GET /verify`` shows the form (upload a baked PNG/SVG or a .json/.jwt file, or paste JSON or
a compact JWT, optionally with the name or e-mail address the visitor was told);
``GET /verify?url=…`` checks one of this installation's credential addresses; ``POST /verify``
shows the result in plain language. ``POST /api/v1/verify`` returns the same report as JSON.
All of them call :func:`badges.verifier.verify_submission` and are rate-limited per address.
"""

import json
from typing import Any

import jsonschema
from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, Optional

from badges import verifier
from badges.db import get_session
from badges.verifier import CheckInfo, VerificationReport
from badges.web import csrf, current_site, errors, utcnow
from badges.web.limits import limiter

bp = Blueprint("verify", __name__)

#: Verifications per client address (page and API together); every attempt counts.
RATE_LIMIT = "30 per minute"
#: The JSON body of the API: a credential (≤ 1 MB) with room for the envelope.
MAX_API_BODY = verifier.MAX_TEXT_BYTES + 64 * 1024


def _rate_limit() -> str:
    return current_app.config.get("BADGES_RATE_LIMIT_VERIFY", RATE_LIMIT)


def _not_a_check() -> bool:
    """The empty form costs nothing: only checks count against the limit."""
    return request.method == "GET" and not request.args.get("url")


limited = limiter.shared_limit(_rate_limit, scope="verify", exempt_when=_not_a_check)


class VerifyForm(FlaskForm):
    """A badge file or pasted text, and optionally the name or e-mail address the visitor was told."""

    badge_file = FileField(
        _l("Badge file"),
        description=_l("A badge image (PNG or SVG) or a credential file (.json or .jwt), at most 5 MB."),
    )
    pasted = TextAreaField(
        _l("Or paste the credential"),
        description=_l("The credential as JSON, or a compact JWT (three parts separated by dots)."),
        validators=[Optional(), Length(max=verifier.MAX_TEXT_BYTES)],
        render_kw={"rows": 6, "spellcheck": "false", "autocomplete": "off"},
    )
    identity = StringField(
        _l("Name or e-mail address you were told (optional)"),
        description=_l("The badge holds the recipient only in a protected form. Type the name or e-mail "
                       "address the person gave you, and we tell you whether it matches."),
        validators=[Optional(), Length(max=verifier.MAX_IDENTITY_CHARS)],
        render_kw={"autocomplete": "off"},
    )


# --- the page ----------------------------------------------------------------------------------


@bp.get("/verify")
@limited
def form():
    """Show the form, or check one of our own credential addresses given as ``?url=``."""
    url = request.args.get("url", "").strip()
    if not url:
        return render_template("verify/form.html", form=VerifyForm())
    report = _verify(url=url[:4096], identity=request.args.get("identity"))
    return _result(report, url=url)


@bp.post("/verify")
@limited
def submit():
    """Check the uploaded file or pasted text and show the result."""
    form = VerifyForm()
    if not form.validate_on_submit():
        return render_template("verify/form.html", form=form), 400
    data = _read_upload(form.badge_file.data)
    if data is None:
        form.badge_file.errors = [_("The file is too large (at most %(size)s MB).",
                                    size=verifier.MAX_FILE_BYTES // (1024 * 1024))]
        return render_template("verify/form.html", form=form), 413
    text = form.pasted.data or None
    if data and text:
        form.pasted.errors = [_("Give one badge at a time: either a file or pasted text.")]
        return render_template("verify/form.html", form=form), 400
    if not data and not text:
        form.badge_file.errors = [_("Choose a badge file or paste the credential.")]
        return render_template("verify/form.html", form=form), 400
    report = _verify(data=data, text=text, identity=form.identity.data)
    if report.problem is not None:
        field = form.badge_file if data else form.pasted
        field.errors = [check_message(report.problem)]
        return render_template("verify/form.html", form=form), 422
    return _result(report)


def _read_upload(upload: Any) -> bytes | None:
    """Return the uploaded bytes (b"" for none), or None when larger than the limit."""
    if upload is None or not getattr(upload, "filename", None):
        return b""
    data = upload.stream.read(verifier.MAX_FILE_BYTES + 1)
    return None if len(data) > verifier.MAX_FILE_BYTES else data


def _verify(**inputs: Any) -> VerificationReport:
    session = get_session()
    factory = current_app.extensions.get("badges.verify_fetcher")  # tests put local-server fetchers here
    fetcher = factory(session) if factory is not None else None
    return verifier.verify_submission(
        session, current_site(), now=utcnow(), fetcher=fetcher, language=str(get_locale()), **inputs,
    )


def _result(report: VerificationReport, *, url: str | None = None):  # noqa: ANN202 - Flask response
    if report.problem is not None:
        return render_template("verify/form.html", form=VerifyForm(), problem=check_message(report.problem)), 422
    response = Response(render_template(
        "verify/result.html", report=report, checks=[(c, check_label(c), check_message(c)) for c in report.checks],
        url=url,
    ))
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


# --- the API -----------------------------------------------------------------------------------


_REQUEST_VALIDATOR = jsonschema.Draft202012Validator(verifier.REQUEST_JSON_SCHEMA)


@bp.post("/api/v1/verify")
@csrf.exempt  # no session, no account and nothing changes: there is nothing to forge
@limited
def api_verify():
    """Verify a credential sent as JSON (``credential``/``url``, ``identity``) or as a multipart file."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file") or request.files.get("credential")
        data = _read_upload(upload)
        if data is None:
            return _api_error(413, "payload_too_large", _("The file is too large (at most %(size)s MB).",
                                                          size=verifier.MAX_FILE_BYTES // (1024 * 1024)))
        text = request.form.get("credential") if not data else None
        identity = request.form.get("identity")
        if not data and not text:
            return _api_error(400, "bad_request", _("Send the badge as a file in the form field “file”."))
        report = _verify(data=data or None, text=text, identity=identity)
    elif request.mimetype == "application/json" or request.mimetype.endswith("+json"):
        body = _json_body()
        if isinstance(body, Response):
            return body
        credential = body.get("credential")
        text = credential if isinstance(credential, str) else None
        if isinstance(credential, dict):
            try:
                text = json.dumps(credential, ensure_ascii=False)
            except (ValueError, RecursionError):
                return _api_error(422, "verify_bad_json", _("The JSON cannot be read (too deeply nested or too large numbers)."))
        report = _verify(text=text, url=body.get("url"), identity=body.get("identity"))
    else:
        return _api_error(415, "unsupported_media_type",
                          _("Send the request body as JSON (Content-Type: application/json) or as a file upload."))
    if report.problem is not None:
        return _api_error(422, report.problem.code, check_message(report.problem))
    return _api_json(localised(report), 200)


def _json_body() -> dict[str, Any] | Response:
    if request.content_length is not None and request.content_length > MAX_API_BODY:
        return _api_error(413, "payload_too_large", _("The request body is too large."))
    raw = request.get_data(cache=False)
    if len(raw) > MAX_API_BODY:
        return _api_error(413, "payload_too_large", _("The request body is too large."))
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deeply
        return _api_error(400, "invalid_json", _("The request body is not valid JSON."))
    problems = sorted(_REQUEST_VALIDATOR.iter_errors(body), key=lambda e: list(e.path)) if isinstance(body, dict) else []
    if not isinstance(body, dict) or problems:
        details = [{"path": "".join(f"/{p}" for p in e.path), "code": "invalid", "message": e.message[:300]}
                   for e in problems[:10]]
        return _api_error(422, "validation_failed", _("The request is not valid. See the details."), details=details)
    return body


def _api_json(body: Any, status: int, headers: dict[str, str] | None = None) -> Response:
    response = current_app.json.response(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _api_error(status: int, code: str, message: str, *, details: list[dict[str, Any]] | None = None,
               headers: dict[str, str] | None = None) -> Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return _api_json(body, status, headers)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException):  # noqa: ANN202 - Flask response
    """API errors as JSON ``{"code", "message"}``; page errors as the site's error page."""
    if not request.path.startswith("/api/"):
        return errors.handle_http(error)
    status = error.code or 500
    if isinstance(error, RequestEntityTooLarge):
        return _api_error(413, "payload_too_large", _("The request body is too large."))
    if status == 429:
        return _api_error(429, "rate_limited", _("Too many requests. Wait a moment and try again."),
                          headers={"Retry-After": "60"})
    return _api_error(status, "bad_request" if status < 500 else "internal",
                      _("The request could not be understood.") if status < 500 else _("Something went wrong."))


def localised(report: VerificationReport) -> dict[str, Any]:
    """Return the report as JSON with the check messages in the reader's language."""
    body = report.to_json()
    for item, check in zip(body["checks"], report.checks, strict=True):
        item["message"] = check_message(check)
    return body


# --- words -------------------------------------------------------------------------------------


def check_label(check: CheckInfo) -> str:
    """Return the name of a check in the reader's language."""
    labels = {
        "input": _("Reading the badge"),
        "structure": _("Format"),
        "contexts": _("Vocabularies (JSON-LD contexts)"),
        "issuer_key": _("Issuer's signing key"),
        "proof": _("Digital signature"),
        "signature": _("Digital signature"),
        "hosted": _("Issuer's own copy"),
        "status": _("Revocation"),
        "dates": _("Validity dates"),
        "recipient": _("Recipient"),
    }
    return labels.get(check.name, check.name)


def outcome_label(outcome: str) -> str:
    """Return an outcome in words (never colour alone)."""
    return {
        "passed": _("Passed"),
        "failed": _("Failed"),
        "unknown": _("Could not be checked"),
        "skipped": _("Not applicable"),
    }.get(outcome, outcome)


def check_message(check: CheckInfo) -> str:
    """Return what a check found, in the reader's language (the English message if no translation).

    The tables hold lazy strings: only the one message that applies is translated (a report
    has half a dozen checks, the tables some seventy messages).
    """
    host = check.params.get("host", "")
    by_code = {
        # reading the input
        "verify_empty": _l("Nothing was given to verify. Choose a badge file or paste the credential."),
        "verify_several": _l("Give one badge at a time: either a file or pasted text."),
        "verify_too_large": _l("The file is too large (at most %(size)s MB).", size=check.params.get("limit", "5")),
        "verify_not_utf8": _l("This file is not a badge: it is neither a badge image nor text."),
        "verify_not_badge": _l("This is not a badge. Upload a badge image (PNG or SVG) or a credential "
                              "file (.json or .jwt), or paste the credential."),
        "verify_bad_json": _l("The text is not valid JSON. Check that you copied the whole credential."),
        "verify_bad_jwt": _l("The JWT cannot be read. Check that you copied the whole token."),
        "verify_bad_image": _l("The image cannot be read: it is damaged or not a PNG or SVG image."),
        "verify_unsafe_svg": _l("This SVG image is refused: it contains a DOCTYPE or entity declarations."),
        "verify_no_credential": _l("This image has no badge baked into it. Download the badge image "
                                  "from the issuer's service, or ask the person for the badge file."),
        "verify_url_not_ours": _l("Only addresses of badges issued by this service can be checked by address. "
                                 "Download the badge file and upload it here instead."),
        "verify_not_found": _l("No badge with this address was found here."),
        "identity_too_long": _l("The name or e-mail address is too long."),
        "identity_invalid": _l("The name or e-mail address has characters that are not text."),
        # keys and lists that could not be had
        "host_not_trusted": _l("The issuer publishes its keys or revocation list at %(host)s, which is not on "
                              "this service's list of trusted hosts, so this could not be checked.", host=host),
        "fetch_failed": _l("The issuer's document could not be fetched from %(host)s, so this could not be "
                          "checked.", host=host),
        "not_https": _l("The issuer's document is not at a secure (HTTPS) address, so this could not be checked."),
        "key_not_in_document": _l("The keys the issuer publishes at %(host)s do not include the key that "
                                 "signed this badge.", host=host),
        "unsupported_did_method": _l("Keys of this kind of issuer identifier (%(method)s) cannot be looked up here.",
                                    method=check.params.get("method", "")),
        "unknown_context": _l("The badge uses vocabularies (JSON-LD contexts) that are not available here "
                             "offline, so its signature could not be checked."),
        "inline_context": _l("The badge defines its own vocabulary inline, which is not accepted, so it could "
                            "not be checked."),
        # the checks themselves
        "malformed": _l("This is not an Open Badges credential in a form we can read."),
        "missing_context": _l("The Open Badges vocabulary is missing from the credential."),
        "malformed_credential": _l("The credential cannot be read."),
        "no_proof": _l("The credential has no digital signature."),
        "no_method": _l("The signature does not name the key that made it."),
        "key_not_found": _l("The issuer's signing key could not be found, so the signature could not be checked."),
        "wrong_controller": _l("The key that signed the badge does not belong to the issuer it names."),
        "wrong_purpose": _l("The key that signed the badge is not one the issuer uses for issuing badges."),
        "unsupported_proof": _l("The badge is signed in a way this service cannot check."),
        "bad_signature": _l("The signature does not match: the badge has been altered, or it was not signed "
                           "by the issuer's key."),
        "undefined_term": _l("The badge contains fields that its vocabularies do not define, so the "
                            "signature does not hold."),
        "no_status": _l("The badge has no revocation list; it cannot be revoked."),
        "unsupported_status": _l("The badge uses a revocation method this service cannot check."),
        "malformed_status": _l("The badge's revocation information is damaged."),
        "status_unavailable": _l("The issuer's revocation list is not available, so revocation could not be checked."),
        "status_wrong_issuer": _l("The revocation list was not published by the issuer."),
        "status_wrong_list": _l("The revocation list is not the one the badge names."),
        "status_key_not_found": _l("The key that signed the revocation list could not be found."),
        "status_bad_signature": _l("The revocation list's signature is not valid."),
        "status_list_expired": _l("The issuer's revocation list has expired, so revocation could not be checked."),
        "status_purpose": _l("The revocation list is for another purpose."),
        "revoked": _l("The issuer has revoked this badge."),
        "suspended": _l("The issuer has suspended this badge."),
        "not_revoked": _l("The issuer has not revoked this badge."),
        "bad_date": _l("A date in the badge is not a valid date."),
        "not_yet_valid": _l("The badge is not valid yet."),
        "expired": _l("The badge has expired."),
        "match": _l("The name or e-mail address you typed matches the person the badge was awarded to."),
        "no_match": _l("The name or e-mail address you typed does not match the person the badge was awarded to."),
        # Open Badges 2.0
        "ob2": _l("An Open Badges 2.0 badge (an older format)."),
        "ob2_malformed": _l("This is not a complete Open Badges 2.0 badge."),
        "ob2_hosted_own": _l("This service issued this badge and holds the same record."),
        "ob2_hosted_fetched": _l("The issuer's copy at %(host)s was fetched and compared.", host=host),
        "ob2_not_issued_here": _l("This service has no badge at the address the badge names."),
        "ob2_mismatch": _l("The badge differs from the issuer's own copy: it has been altered."),
        "ob2_signed": _l("The signature is valid for the key the issuer publishes at %(host)s.", host=host),
        "ob2_signed_without_jws": _l("A signed Open Badges 2.0 badge can only be checked from the badge image "
                                    "(its signed form)."),
        "ob2_status_not_checked": _l("Revocation of Open Badges 2.0 badges from other services could not be checked."),
    }
    passed = {
        "structure": _l("The badge has the form of an Open Badges credential."),
        "contexts": _l("All vocabularies (JSON-LD contexts) are standard ones, read from local copies."),
        "issuer_key": _l("The signing key belongs to the issuer."),
        "proof": _l("The digital signature is valid: the badge has not been altered."),
        "status": _l("The issuer has not revoked this badge."),
        "dates": _l("The badge is within its validity period."),
    }
    if check.outcome == "passed" and check.code in ("", "not_revoked") and check.name in passed:
        return str(passed[check.name])
    if check.name == "proof" and check.code == "key_not_found" and check.params.get("host"):
        return _("The signature could not be checked, because the issuer's key could not be obtained from %(host)s.",
                 host=host)
    if check.name == "status" and check.code in ("host_not_trusted", "fetch_failed", "not_https"):
        return _("Revocation could not be checked: the issuer's revocation list is at %(host)s, which "
                 "could not be used here.", host=host)
    message = by_code.get(check.code)
    return str(message) if message is not None else check.message


@bp.app_template_filter("verify_outcome")
def _outcome_filter(outcome: str) -> str:
    return outcome_label(outcome)
