"""The OpenAPI 3.1 document of ``/api/v1``, built from Python dicts, and validation against it.

One source: the web layer validates every request body and query parameter against the very
schemas this module publishes (``validate_body``, ``parse_query``), so the document and the
checks cannot disagree. Nothing here imports Flask.
"""

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from badges.api_tokens import CLIENT_SCOPES, DEFAULT_LIMIT, MAX_BULK, MAX_LIMIT, SCOPES, STAFF_SCOPES

#: The document's own URI inside the validator's registry ("#/components/…" resolves against it).
DOCUMENT_URI = "urn:osaamispassi:api:v1"
VERSION = "1.0.0"
BASE_PATH = "/api/v1"

ID = {"type": "string", "pattern": "^[0-9a-f]{32}$", "description": "An opaque identifier.",
      "examples": ["3f2a9c0d4b5e4f7a8b9c0d1e2f3a4b5c"]}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}
TIME = {"type": "string", "format": "date-time"}
DAY = {"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
SLUG = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[^/\\s]+$",
        "description": "An organisation's short name.", "examples": ["verstas"]}
AWARD_STATUS = {"type": "string", "enum": ["valid", "expired", "revoked"]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: Mapping[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    """Return a closed object schema: unknown properties are refused (requests) or never sent (responses)."""
    return {"type": "object", "properties": dict(properties), "required": list(required or properties),
            "additionalProperties": False, **extra}


def _list_of(name: str, paged: bool) -> dict[str, Any]:
    props: dict[str, Any] = {"items": {"type": "array", "items": _ref(name)}}
    if paged:
        props["next_cursor"] = {"type": ["string", "null"],
                                "description": "Pass as `cursor` for the next page; null on the last page."}
    return _obj(props)


ORGANISATION_REF = _obj({"slug": SLUG, "name": {"type": "string"}})

AWARD_PROPERTIES: dict[str, Any] = {
    "id": ID,
    "organisation": SLUG,
    "badge": {**ID, "description": "The badge definition (achievement) id."},
    "badge_version": {**ID, "description": "The exact version the award was issued under."},
    "badge_name": {"type": "string"},
    "client": {**ID, "description": "The recipient's client id."},
    "issued_by": {"type": ["string", "null"], "description": "The issuing person's id, if any."},
    "issued_at": TIME,
    "valid_until": NULLABLE_TIME,
    "status": AWARD_STATUS,
    "revoked_at": NULLABLE_TIME,
    "revocation_reason": {"type": ["string", "null"]},
    "credential_url": {"type": "string", "format": "uri", "description": "The public verification page."},
    "url": {"type": "string", "description": "This award in the API."},
}

PASSPORT_AWARD_PROPERTIES: dict[str, Any] = {
    "id": ID,
    "badge_name": {"type": "string", "description": "In the reader's language when the badge has it."},
    "description": {"type": "string"},
    "language": {"type": "string"},
    "issuer": ORGANISATION_REF,
    "issued_at": TIME,
    "valid_until": NULLABLE_TIME,
    "status": AWARD_STATUS,
    "revoked_at": NULLABLE_TIME,
    "revocation_reason": {"type": ["string", "null"]},
    "credential_url": {"type": "string", "format": "uri"},
}

SHARE_PROPERTIES: dict[str, Any] = {
    "id": ID,
    "scope": {"type": "string", "enum": ["passport", "qualification", "badges"]},
    "purpose": {"type": "string"},
    "recipient": {"type": "string", "description": "Who the share is for, as the client wrote it."},
    "recipient_account": {"type": "boolean", "description": "True when shared with a professional's account."},
    "include_evidence": {"type": "boolean"},
    "qualification": {"type": ["string", "null"], "description": "`source:id` of the shared qualification."},
    "awards": {"type": "array", "items": ID, "description": "The chosen badges (scope `badges`)."},
    "created_at": TIME,
    "expires_at": TIME,
    "revoked_at": NULLABLE_TIME,
    "status": {"type": "string", "enum": ["active", "expired", "revoked"]},
    "accesses": {"type": "integer", "minimum": 0, "description": "How many times the share was opened."},
}

AWARD_REQUEST_PROPERTIES: dict[str, Any] = {
    "badge": {**ID, "description": "The badge definition id (from the organisation's badge list)."},
    "client": {**ID, "description": "The client's id (from the organisation's client list)."},
    "narrative": {"type": "string", "maxLength": 1000, "description": "What the coach observed (evidence)."},
    "observed_on": {**DAY, "description": "The Finnish date the skill was observed (at most a year back)."},
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        **_obj({
            "code": {"type": "string", "description": "A stable, machine-readable code."},
            "message": {"type": "string", "description": "A message in the request's Accept-Language."},
            "details": {"type": "array", "items": _obj(
                {"path": {"type": "string", "description": "A JSON Pointer into the request body or a parameter."},
                 "code": {"type": "string"}, "message": {"type": "string"}}, ["path", "message"])},
        }, ["code", "message"]),
        "examples": [{"code": "insufficient_scope", "message": "The token lacks the scope this needs."}],
    },
    "Scope": {"type": "string", "enum": list(SCOPES)},
    "Me": _obj({
        "id": ID,
        "name": {"type": "string"},
        "scopes": {"type": "array", "items": _ref("Scope"), "description": "What this token may do now."},
        "organisations": {"type": "array", "items": _obj({
            "slug": SLUG, "name": {"type": "string"},
            "roles": {"type": "array", "items": {"type": "string", "enum": ["admin", "coach", "client"]}},
        })},
    }),
    "Badge": _obj({
        "id": ID,
        "organisation": SLUG,
        "name": {"type": "string"},
        "description": {"type": "string"},
        "criteria": {"type": "string"},
        "language": {"type": "string"},
        "version": {"type": "integer", "minimum": 1},
        "version_id": ID,
        "achievement_url": {"type": "string", "format": "uri", "description": "The signed-for Achievement."},
        "image_url": {"type": "string", "format": "uri"},
        "alignments": {"type": "array", "items": {
            "type": "object", "description": "OB 3.0 Alignment: targetName, targetUrl, targetCode, targetFramework …",
        }},
        "valid_days": {"type": ["integer", "null"]},
        "catalogue_ref": {"type": ["string", "null"]},
        "retired": {"type": "boolean"},
    }),
    "BadgeList": _list_of("Badge", paged=False),
    "Client": _obj({
        "id": ID,
        "name": {"type": "string"},
        "email": {"type": ["string", "null"]},
        "client_since": TIME,
    }),
    "ClientPage": _list_of("Client", paged=True),
    "Award": _obj(AWARD_PROPERTIES),
    "AwardDetail": _obj({**AWARD_PROPERTIES, "credential": {
        "type": "object", "description": "The signed OpenBadgeCredential exactly as issued."}}),
    "AwardPage": _list_of("Award", paged=True),
    "AwardRequest": {
        **_obj(AWARD_REQUEST_PROPERTIES, ["badge", "client"]),
        "examples": [{"badge": "3f2a9c0d4b5e4f7a8b9c0d1e2f3a4b5c", "client": "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
                      "narrative": "Named five kinds of wood and their uses.", "observed_on": "2026-03-02"}],
    },
    "BulkAwardRequest": {
        **_obj({
            "organisation": SLUG,
            "awards": {"type": "array", "minItems": 1, "maxItems": MAX_BULK,
                       "items": _obj(AWARD_REQUEST_PROPERTIES, ["badge", "client"])},
        }),
        "examples": [{"organisation": "verstas", "awards": [
            {"badge": "3f2a9c0d4b5e4f7a8b9c0d1e2f3a4b5c", "client": "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b"}]}],
    },
    "RevokeRequest": {
        **_obj({"reason": {"type": "string", "minLength": 1, "maxLength": 500, "pattern": "\\S"}}),
        "examples": [{"reason": "Awarded to the wrong person by mistake."}],
    },
    "Job": _obj({
        "id": ID,
        "organisation": SLUG,
        "status": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
        "done": {"type": "integer", "minimum": 0},
        "total": {"type": "integer", "minimum": 0},
        "created_at": TIME,
        "finished_at": NULLABLE_TIME,
        "error": {"oneOf": [{"type": "null"}, _obj({
            "code": {"type": "string"}, "item": {"type": ["integer", "null"], "description": "1-based item."},
            "message": {"type": "string"}})]},
        "url": {"type": "string"},
        "awards_url": {"type": "string", "description": "The awards this job made."},
    }),
    "PassportAward": _obj(PASSPORT_AWARD_PROPERTIES),
    "PassportAwardDetail": _obj({**PASSPORT_AWARD_PROPERTIES, "credential": {"type": "object"}}),
    "UnitProgress": _obj({
        "code": {"type": "string"},
        "name": {"type": "string"},
        "requirements": {"type": "integer", "minimum": 0, "description": "Requirements in force."},
        "evidenced": {"type": "integer", "minimum": 0, "description": "Requirements a valid badge evidences."},
        "awards": {"type": "array", "items": ID},
    }),
    "QualificationProgress": _obj({
        "qualification": _obj({"key": {"type": "string"}, "source": {"type": "string"},
                               "name": {"type": "string"}}),
        "units": {"type": "array", "items": _ref("UnitProgress")},
    }),
    "Passport": _obj({
        "holder": _obj({"id": ID, "name": {"type": "string"}}),
        "awards": {"type": "array", "items": _ref("PassportAward")},
        "progress": {"type": "array", "items": _ref("QualificationProgress")},
    }),
    "ShareRequest": {
        **_obj({
            "scope": {"type": "string", "enum": ["passport", "qualification", "badges"]},
            "purpose": {"type": "string", "minLength": 1, "maxLength": 500, "pattern": "\\S"},
            "recipient": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S",
                          "description": "Who the link is for (give this or `recipient_email`)."},
            "recipient_email": {"type": "string", "format": "email", "maxLength": 320,
                                "description": "A professional's account to share with."},
            "awards": {"type": "array", "items": ID, "minItems": 1, "maxItems": 500, "uniqueItems": True,
                       "description": "Required for scope `badges`: your valid badges to share."},
            "qualification": {"type": "string", "maxLength": 200,
                              "description": "Required for scope `qualification`: `source:id`."},
            "include_evidence": {"type": "boolean", "default": False},
            "expires_on": {**DAY, "description": "Last Finnish day the link works (default 30 days, at most 365)."},
        }, ["scope", "purpose"]),
        "not": {"required": ["recipient", "recipient_email"]},
        "examples": [{"scope": "passport", "purpose": "For planning my next step",
                      "recipient": "Employment services, Ms N", "expires_on": "2026-04-30"}],
    },
    "Share": _obj(SHARE_PROPERTIES),
    "ShareCreated": _obj({**SHARE_PROPERTIES, "url": {
        "type": "string", "format": "uri", "description": "The share link. It is shown only this once."}}),
    "ShareList": _list_of("Share", paged=False),
    "ShareAccess": _obj({
        "at": TIME,
        "device": {"type": "string", "enum": ["phone", "tablet", "computer", "other"]},
        "via": {"type": "string", "enum": ["link", "account"]},
    }),
    "ShareAccessList": _list_of("ShareAccess", paged=False),
}


# --- parameters ---------------------------------------------------------------------------------------------


def _path(name: str, schema: Mapping[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": dict(schema), "description": description}


def _query(name: str, schema: Mapping[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": dict(schema), "description": description}


SLUG_PARAM = _path("slug", SLUG, "The organisation's short name; only organisations where you are staff.")
LIMIT = _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
               "Items per page.")
CURSOR = _query("cursor", {"type": "string", "minLength": 1, "maxLength": 500},
                "The `next_cursor` of the previous page.")
IDEMPOTENCY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "pattern": "^[\\x21-\\x7e]{1,200}$"},
    "description": "Any unique value (e.g. a UUID) chosen by the caller. A retry with the same key and body "
                   "returns the stored answer and never acts twice; the same key with another body is refused "
                   "with `idempotency_key_reused`. Answers are kept for 24 hours.",
}


# --- operations --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    """One API operation: what it needs (scopes, parameters, body) and what it answers."""

    operation_id: str
    method: str
    path: str
    tag: str
    summary: str
    description: str
    scopes: tuple[str, ...] = ()
    parameters: tuple[dict[str, Any], ...] = ()
    body: str | None = None
    responses: dict[int, str | None] = field(default_factory=dict)
    public: bool = False
    idempotent: bool = False
    extra_errors: tuple[int, ...] = ()


OPERATIONS: tuple[Operation, ...] = (
    Operation("getMe", "GET", "/me", "Account", "Who am I",
              "The token's person, the scopes it may use now and the person's organisations and roles. "
              "Any valid token may call this.",
              responses={200: "Me"}),
    Operation("listBadges", "GET", "/orgs/{slug}/badges", "Awarding", "List badge definitions",
              "The organisation's badge definitions (current versions), by name.",
              scopes=("badges:read",), responses={200: "BadgeList"},
              parameters=(SLUG_PARAM, _query("include_retired", {"type": "boolean", "default": False},
                                              "Also list retired badges (they cannot be awarded)."))),
    Operation("listClients", "GET", "/orgs/{slug}/clients", "Awarding", "List clients",
              "The organisation's clients with the ids to award to, ordered by id.",
              scopes=("clients:read",), responses={200: "ClientPage"},
              parameters=(SLUG_PARAM, _query("email", {"type": "string", "minLength": 3, "maxLength": 320},
                                              "Only the client with this e-mail address."), CURSOR, LIMIT)),
    Operation("createAward", "POST", "/awards", "Awarding", "Award a badge to a client",
              "Issues one signed Open Badges 3.0 credential. The badge decides the organisation, where you "
              "must be an admin or a coach. Send an `Idempotency-Key` so that a retry never issues twice.",
              scopes=("awards:write",), body="AwardRequest", responses={201: "Award"},
              parameters=(IDEMPOTENCY,), idempotent=True, extra_errors=(409,)),
    Operation("createBulkAward", "POST", "/awards/bulk", "Awarding", "Award many badges as a background job",
              f"Checks every item (at most {MAX_BULK}) first: if any is wrong, nothing is queued and the "
              "answer lists each problem by its path. Otherwise a job is queued and its URL returned; follow it "
              "for progress.",
              scopes=("awards:write",), body="BulkAwardRequest", responses={202: "Job"},
              parameters=(IDEMPOTENCY,), idempotent=True, extra_errors=(404,)),
    Operation("listAwards", "GET", "/awards", "Awarding", "List awards",
              "Awards of the organisations where you are staff, newest first.",
              scopes=("awards:read",), responses={200: "AwardPage"},
              parameters=(
                  _query("organisation", SLUG, "Only this organisation's awards."),
                  _query("badge", ID, "Only awards of this badge definition."),
                  _query("client", ID, "Only awards to this client."),
                  _query("status", AWARD_STATUS, "Only awards in this state."),
                  _query("issued_from", DAY, "Issued on or after this Finnish date."),
                  _query("issued_to", DAY, "Issued on or before this Finnish date."),
                  _query("job", ID, "Only the awards a bulk job made."),
                  CURSOR, LIMIT,
              )),
    Operation("getAward", "GET", "/awards/{award_id}", "Awarding", "Get an award with its signed credential",
              "One award of an organisation where you are staff, with the credential exactly as signed.",
              scopes=("awards:read",), responses={200: "AwardDetail"},
              parameters=(_path("award_id", ID, "The award's id."),)),
    Operation("revokeAward", "POST", "/awards/{award_id}/revoke", "Awarding", "Revoke an award",
              "Withdraws the award: its bit in the signed status list is set and the client sees the reason. "
              "Admins may revoke any award of their organisation, coaches those they issued.",
              scopes=("awards:write",), body="RevokeRequest", responses={200: "Award"},
              parameters=(_path("award_id", ID, "The award's id."), IDEMPOTENCY), idempotent=True,
              extra_errors=(409,)),
    Operation("getJob", "GET", "/jobs/{job_id}", "Awarding", "Follow a bulk award job",
              "Progress and outcome of a bulk award. A failed job names the item and the reason; the items "
              "before it were issued.",
              scopes=("awards:read", "awards:write"), responses={200: "Job"},
              parameters=(_path("job_id", ID, "The job's id."),)),
    Operation("getPassport", "GET", "/me/passport", "Passport", "My passport",
              "Your badges (all states) and your progress toward qualification units, in the Accept-Language "
              "language where the data has it.",
              scopes=("passport:read",), responses={200: "Passport"}),
    Operation("getOwnAward", "GET", "/me/awards/{award_id}", "Passport", "One of my badges with its credential",
              "Your award with the signed credential, to keep or to hand on.",
              scopes=("passport:read",), responses={200: "PassportAwardDetail"},
              parameters=(_path("award_id", ID, "The award's id."),)),
    Operation("createShare", "POST", "/me/shares", "Sharing", "Share my badges",
              "Makes a share link: what (the whole passport, one qualification's badges or chosen badges), "
              "with whom, why and until when. The answer's `url` is the only time the link is shown; it is "
              "never stored. Idempotency-Key is not supported here, because the link is never stored.",
              scopes=("shares:write",), body="ShareRequest", responses={201: "ShareCreated"}),
    Operation("listShares", "GET", "/me/shares", "Sharing", "List my shares",
              "All your shares, newest first, with their state and how often they were opened.",
              scopes=("shares:read",), responses={200: "ShareList"}),
    Operation("revokeShare", "DELETE", "/me/shares/{share_id}", "Sharing", "Stop a share",
              "Stops the share at once; stopping it again changes nothing.",
              scopes=("shares:write",), responses={200: "Share"},
              parameters=(_path("share_id", ID, "The share's id."),)),
    Operation("listShareAccesses", "GET", "/me/shares/{share_id}/accesses", "Sharing", "Who opened my share",
              "Each opening: when, the kind of device and whether by link or by a professional's account.",
              scopes=("shares:read",), responses={200: "ShareAccessList"},
              parameters=(_path("share_id", ID, "The share's id."),)),
)

BY_ID = {operation.operation_id: operation for operation in OPERATIONS}

#: What each scope allows (for the document and the token pages' hints).
SCOPE_DESCRIPTIONS = {
    "badges:read": "List an organisation's badge definitions.",
    "clients:read": "List an organisation's clients (ids, names, e-mail addresses).",
    "awards:read": "List and read awards and bulk jobs of your organisations.",
    "awards:write": "Award badges (one or in bulk) and revoke awards.",
    "passport:read": "Read your own passport and credentials.",
    "shares:read": "List your shares and who opened them.",
    "shares:write": "Make and stop shares of your passport.",
}

#: The stable error codes and what they mean (English; the answers' messages are translated).
ERROR_CODES = {
    "token_missing": (401, "No `Authorization: Bearer` header."),
    "token_invalid": (401, "The token is unknown or malformed, or its account is closed."),
    "token_revoked": (401, "The token was revoked."),
    "token_expired": (401, "The token has expired."),
    "insufficient_scope": (403, "The token does not carry the scope the operation needs."),
    "role_required": (403, "The token has the scope, but the account no longer has a role that allows it."),
    "not_allowed": (403, "You may see the object but not do this to it (e.g. revoke another coach's award)."),
    "not_found": (404, "No such object among those you may see (others' objects answer the same)."),
    "method_not_allowed": (405, "The path exists but not with this method (see the Allow header)."),
    "bad_request": (400, "The request could not be understood."),
    "invalid_json": (400, "The body is not JSON (or not UTF-8, or uses NaN/Infinity)."),
    "unknown_parameter": (400, "A query parameter the operation does not declare."),
    "invalid_parameter": (400, "A path or query parameter does not match its schema."),
    "invalid_cursor": (400, "The page cursor is not one this API gave; start from the first page."),
    "invalid_idempotency_key": (400, "The Idempotency-Key is not 1 to 200 visible ASCII characters."),
    "payload_too_large": (413, "The body is larger than 4 MiB."),
    "unsupported_media_type": (415, "The body is not `application/json`."),
    "validation_failed": (422, "The body breaks the schema or names unknown things; `details` lists each problem."),
    "idempotency_key_reused": (422, "The Idempotency-Key was used before for a different request."),
    "unknown_badge": (422, "No such badge among the organisations where you are staff."),
    "unknown_client": (422, "The person is not a client of the badge's organisation."),
    "observed_future": (422, "The observation date is in the future."),
    "observed_too_old": (422, "The observation date is more than a year back."),
    "badge_retired": (409, "The badge is retired and cannot be awarded."),
    "already_revoked": (409, "The award was revoked already."),
    "conflict": (409, "A concurrent request changed the same data; try again."),
    "share_no_badges": (422, "Scope `badges` needs `awards`."),
    "share_unknown_badge": (422, "A chosen badge is not one of your valid badges."),
    "share_no_qualification": (422, "Scope `qualification` needs `qualification`."),
    "share_unknown_qualification": (422, "None of your valid badges is aligned to that qualification."),
    "share_recipient_missing": (422, "Give `recipient` or `recipient_email`."),
    "share_no_professional": (422, "No professional account has that e-mail address."),
    "share_self": (422, "You cannot share with yourself."),
    "share_expiry_past": (422, "`expires_on` is in the past."),
    "share_expiry_too_late": (422, "`expires_on` is more than 365 days ahead."),
    "rate_limited": (429, "Too many requests with this token; wait Retry-After seconds."),
    "internal": (500, "An error on our side; nothing was saved."),
}

_ERROR_TEXT = {
    400: "The request is malformed (a parameter, the JSON, the cursor or the Idempotency-Key).",
    401: "No token, or the token is unknown, revoked or expired.",
    403: "The token lacks the scope, or your account no longer has the role, or you may not do this.",
    404: "No such object among those you may see.",
    409: "The object's state does not allow this (e.g. already revoked, badge retired).",
    413: "The request body is too large.",
    415: "The body must be JSON (Content-Type: application/json).",
    422: "The body does not match the schema, or names something unknown (see `details`).",
    429: "Too many requests with this token; wait for the number of seconds in Retry-After.",
}


def _error_statuses(operation: Operation) -> list[int]:
    statuses = [400]
    if not operation.public:
        statuses += [401, 403, 429]
    if "{" in operation.path:
        statuses.append(404)
    if operation.body:
        statuses += [413, 415, 422]
    statuses += list(operation.extra_errors)
    if operation.idempotent and 422 not in statuses:
        statuses.append(422)
    return sorted(set(statuses))


def _error_response(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": _ERROR_TEXT[status], "content": {"application/json": {"schema": _ref("Error")}},
    }
    if status == 429:
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}}
    return response


def _operation_document(operation: Operation) -> dict[str, Any]:
    description = operation.description
    if operation.scopes:
        description += "\n\nRequired scope: " + " or ".join(f"`{s}`" for s in operation.scopes) + "."
    document: dict[str, Any] = {
        "operationId": operation.operation_id, "tags": [operation.tag], "summary": operation.summary,
        "description": description, "responses": {},
    }
    if operation.scopes:
        document["x-required-scopes"] = list(operation.scopes)
    if operation.public:
        document["security"] = []
    if operation.parameters:
        document["parameters"] = [copy.deepcopy(p) for p in operation.parameters]
    if operation.body:
        body_schema = SCHEMAS.get(operation.body, {})
        media: dict[str, Any] = {"schema": _ref(operation.body)}
        if body_schema.get("examples"):
            media["example"] = body_schema["examples"][0]
        document["requestBody"] = {"required": True, "content": {"application/json": media}}
    for status, schema in operation.responses.items():
        response: dict[str, Any] = {"description": "OK" if status < 300 else ""}
        if schema:
            response["content"] = {"application/json": {"schema": _ref(schema)}}
        if status in (201, 202):
            response["description"] = "Created" if status == 201 else "Accepted: the job is queued"
            response["headers"] = {"Location": {"schema": {"type": "string"}, "description": "The new object."}}
        if operation.idempotent:
            response.setdefault("headers", {})["Idempotent-Replayed"] = {
                "schema": {"type": "string", "enum": ["true"]},
                "description": "Present when this is the stored answer to an earlier request with the same key.",
            }
        document["responses"][str(status)] = response
    for status in _error_statuses(operation):
        document["responses"][str(status)] = _error_response(status)
    return document


def _verify_operation(request_schema: Any, report_schema: Any) -> dict[str, Any]:
    return {
        "post": {
            "operationId": "verifyCredential", "tags": ["Verification"], "security": [],
            "summary": "Verify a credential",
            "description": "Checks an Open Badges credential (JSON, a compact JWT, or a baked PNG or SVG file "
                           "sent as multipart) as the public /verify page does and returns the same result as "
                           "JSON. No token is needed.",
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": _ref("VerifyRequest")},
                "multipart/form-data": {"schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "contentMediaType": "application/octet-stream",
                                 "description": "A baked PNG or SVG, a .json or a .jwt file."},
                        "credential": {"type": "string", "description": "Pasted JSON or a compact JWT."},
                        "identity": {"type": "string", "description": "A name or e-mail address to match."},
                    },
                }},
            }},
            "responses": {
                "200": {"description": "The verification report (a forged badge is a normal report, not an error).",
                        "content": {"application/json": {"schema": _ref("VerificationReport")}}},
                **{str(s): _error_response(s) for s in (400, 413, 415, 422, 429)},
            },
        },
    }


def verifier_schemas() -> tuple[Any, Any] | None:
    """Return the verifier's request and report JSON Schemas, or None while the verifier lacks them."""
    try:
        from badges import verifier
    except ImportError:
        return None
    request_schema = getattr(verifier, "REQUEST_JSON_SCHEMA", None)
    report_schema = getattr(verifier, "REPORT_JSON_SCHEMA", None)
    if request_schema is None or report_schema is None:
        return None
    return request_schema, report_schema


def _embedded(schema: Any) -> Any:
    """Return a copy of an outside schema fit for components (its own ``$schema``/``$id`` dropped)."""
    if not isinstance(schema, Mapping):
        return schema
    return {k: copy.deepcopy(v) for k, v in schema.items() if k not in ("$schema", "$id")}


@cache
def _document_template() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for operation in OPERATIONS:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation_document(operation)
    schemas = copy.deepcopy(SCHEMAS)
    tags = [
        {"name": "Account", "description": "The token and its person."},
        {"name": "Awarding", "description": "For admins and coaches: badges, clients, awards, bulk jobs, revoking. "
                                            "Scopes: " + ", ".join(STAFF_SCOPES) + "."},
        {"name": "Passport", "description": "For clients: their own badges and progress. Scope: passport:read."},
        {"name": "Sharing", "description": "For clients: shares with consent. Scopes: "
                                           + ", ".join(s for s in CLIENT_SCOPES if s.startswith("shares")) + "."},
    ]
    found = verifier_schemas()
    if found is not None:
        schemas["VerifyRequest"] = _embedded(found[0])
        schemas["VerificationReport"] = _embedded(found[1])
        paths["/verify"] = _verify_operation(*found)
        tags.append({"name": "Verification", "description": "For anyone: check a credential. No token needed."})
    scopes_text = "\n".join(f"- `{scope}`: {text}" for scope, text in SCOPE_DESCRIPTIONS.items())
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "info": {
            "title": "Osaamispassi API",
            "version": VERSION,
            "summary": "Award, revoke and list Open Badges 3.0; a client's passport and shares.",
            "description": (
                "A JSON API for case-management systems and mobile clients.\n\n"
                "Authenticate with a personal access token: `Authorization: Bearer op_…`. Create one on the "
                "*API tokens* page of your account or with `badges tokens create --user EMAIL`. A token is shown "
                "once and stored only as a hash. The session cookie never authenticates an API request.\n\n"
                "Scopes:\n" + scopes_text + "\n\n"
                "A token can use a scope only while your account has a role that allows it (admin or coach for "
                "the awarding scopes, client for the passport and sharing scopes).\n\n"
                "Errors are JSON `{\"code\", \"message\"}` with a stable code and a message in the request's "
                "`Accept-Language` (fi, sv, en). Objects you may not see answer 404. Unknown fields are refused. "
                "Requests are rate-limited per token (429 with Retry-After)."
            ),
        },
        "servers": [{"url": BASE_PATH}],
        "tags": tags,
        "security": [{"bearer": []}],
        "x-error-codes": {code: {"status": status, "meaning": meaning} for code, (status, meaning) in ERROR_CODES.items()},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "op_ token",
                                           "description": "A personal access token."}},
        },
    }


def document(server_url: str | None = None) -> dict[str, Any]:
    """Return the OpenAPI document; ``server_url`` (absolute) replaces the relative server."""
    doc = copy.deepcopy(_document_template())
    if server_url:
        doc["servers"] = [{"url": server_url, "description": "This installation"}]
    return doc


# --- validation against the document ---------------------------------------------------------------------------


@cache
def _registry() -> Registry:
    return Registry().with_resource(DOCUMENT_URI, Resource.from_contents(_document_template(), DRAFT202012))


@cache
def validator(schema_name: str) -> Draft202012Validator:
    """Return a validator of components/schemas/``schema_name`` (with formats checked)."""
    return Draft202012Validator(
        {"$ref": f"{DOCUMENT_URI}#/components/schemas/{schema_name}"}, registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def _pointer(path: Any) -> str:
    return "".join(f"/{str(part).replace('~', '~0').replace('/', '~1')}" for part in path)


def body_problems(schema_name: str, data: Any) -> list[dict[str, str]]:
    """Return every way ``data`` breaks the schema: ``{"path": JSON Pointer, "message": text}``."""
    problems = sorted(validator(schema_name).iter_errors(data), key=lambda e: (list(map(str, e.path)), e.message))
    return [{"path": _pointer(e.path) or "/", "message": e.message} for e in problems[:50]]


class QueryError(ValueError):
    """A query parameter is unknown or not acceptable; ``name`` says which."""

    def __init__(self, name: str, unknown: bool) -> None:
        super().__init__(name)
        self.name = name
        self.unknown = unknown


_BOOLEANS = {"true": True, "false": False}


def _convert(text: str, schema: Mapping[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        if not re.fullmatch(r"-?[0-9]{1,18}", text):
            raise ValueError(text)
        return int(text)
    if kind == "boolean":
        if text not in _BOOLEANS:
            raise ValueError(text)
        return _BOOLEANS[text]
    return text


def parse_query(operation_id: str, args: Mapping[str, list[str]]) -> dict[str, Any]:
    """Return the operation's query parameters converted and checked against their schemas.

    ``args`` maps names to every value given. Unknown names, repeated names and values that
    break the schema raise ``QueryError``. Absent parameters get their schema's default.
    """
    declared = {p["name"]: p["schema"] for p in BY_ID[operation_id].parameters if p["in"] == "query"}
    values: dict[str, Any] = {}
    for name, given in args.items():
        if name not in declared:
            raise QueryError(name, unknown=True)
        if len(given) != 1:
            raise QueryError(name, unknown=False)
        schema = declared[name]
        try:
            value = _convert(given[0], schema)
        except ValueError:
            raise QueryError(name, unknown=False) from None
        checker = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
        if not checker.is_valid(value):
            raise QueryError(name, unknown=False)
        values[name] = value
    for name, schema in declared.items():
        if name not in values and "default" in schema:
            values[name] = schema["default"]
    return values


def path_ok(operation_id: str, name: str, value: str) -> bool:
    """Return True when the path parameter ``name`` matches its schema."""
    for parameter in BY_ID[operation_id].parameters:
        if parameter["in"] == "path" and parameter["name"] == name:
            return Draft202012Validator(parameter["schema"]).is_valid(value)
    return True


def as_date(value: str | None) -> date | None:
    """Return a validated ``YYYY-MM-DD`` string as a date (None stays None)."""
    return date.fromisoformat(value) if value else None
