"""The authorization matrix: every route of the app × every kind of person, generated from the URL map.

Each endpoint has an entry: the access policy it must follow and which object fills its URL
variables (always organisation A's objects or client A's). A new route without an entry fails
``test_every_route_has_an_entry``, so nobody can add a page without deciding who may open it.

Outcomes: ``ok`` (served: 2xx, or a redirect that is not to the login page), ``login`` (sent to
log in: a redirect to /login, or 401 for the JSON API), ``deny`` (403 or 404 — 404 where telling
that the object exists would leak it). Reading requests are sent for every role; writing requests
(POST, PUT, PATCH, DELETE, with an empty form) are sent for the roles that must be refused, and
the world is checked unchanged afterwards; what allowed roles can write is covered by the feature
tests of each blueprint.
"""

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from badges import api_tokens
from badges.models import (
    Achievement, ApiToken, Endorsement, Award, BadgeApplication, EvidenceFile, Invitation, Job, Membership, Share, User,
)
from authz_helpers import ROLES, build_world, now, sign_in

# Policies: who gets ``ok``; everyone else signed in gets ``deny`` and the anonymous ``login``,
# except where the policy says otherwise.
POLICIES: dict[str, dict[str, str]] = {
    #: Open to everyone, signed in or not (public pages and documents, capability links).
    "public": {role: "ok" for role in ROLES},
    #: Any signed-in person.
    "user": {role: ("login" if role == "anonymous" else "ok") for role in ROLES},
    #: Client A's own things (their passport, their badge, their share).
    "client_a": {role: {"anonymous": "login", "client_a": "ok"}.get(role, "deny") for role in ROLES},
    #: The photo of client A's award: client A and organisation A's staff.
    "photo": {role: {"anonymous": "login", "client_a": "ok", "coach_a": "ok", "admin_a": "ok"}.get(role, "deny")
              for role in ROLES},
    #: Professionals' network area (any professional), the share itself only with the live share.
    "professionals": {role: {"anonymous": "login", "pro_share": "ok", "pro_none": "ok"}.get(role, "deny")
                      for role in ROLES},
    "pro_share": {role: {"anonymous": "login", "pro_share": "ok"}.get(role, "deny") for role in ROLES},
    #: Staff (coach or admin) of organisation A.
    "staff_a": {role: {"anonymous": "login", "coach_a": "ok", "admin_a": "ok"}.get(role, "deny") for role in ROLES},
    #: Staff of any organisation (the ePerusteet browser used to align badges).
    "staff": {role: {"anonymous": "login", "coach_a": "ok", "admin_a": "ok", "coach_b": "ok"}.get(role, "deny")
              for role in ROLES},
    #: Admins of organisation A.
    "admin_a": {role: {"anonymous": "login", "admin_a": "ok"}.get(role, "deny") for role in ROLES},
}

#: People who hold an API token (professionals have no roles that allow one).
TOKEN_HOLDERS = ("client_a", "client_b", "coach_a", "admin_a", "coach_b")


def _api(*ok: str) -> dict[str, str]:
    """A bearer-token policy: ``ok`` roles are served, other token holders refused, the rest 401."""
    return {role: "ok" if role in ok else ("deny" if role in TOKEN_HOLDERS else "login") for role in ROLES}


POLICIES.update({
    "api_staff_a": _api("coach_a", "admin_a"),
    "api_staff": _api("coach_a", "admin_a", "coach_b"),
    "api_client_a": _api("client_a"),
    "api_clients": _api("client_a", "client_b"),
    "api_user": _api(*TOKEN_HOLDERS),
    "api_none": {role: "deny" for role in ROLES},  # an unknown API address is 404 for everyone
})

# endpoint -> (policy, {url variable: world value}[, JSON body of a write]). Variables not listed take the value of the
# same name (``slug`` is organisation A).
MATRIX: dict[str, tuple[str, dict[str, str]]] = {
    "static": ("public", {"filename": "css/app.css"}),
    "home.index": ("public", {}),
    "home.mark_read": ("user", {}),
    "auth.login": ("public", {}),
    "auth.logout": ("user", {}),
    "auth.activate": ("public", {}),
    "auth.forgot": ("public", {}),
    "auth.reset": ("public", {"token": "reset_token"}),
    "people.invitation": ("public", {"token": "invite_token"}),
    "public.achievement": ("public", {"public_id": "version"}),
    "public.achievement_image": ("public", {"public_id": "version"}),
    "public.credential": ("public", {"public_id": "award"}),
    "public.credential_json": ("public", {"public_id": "award"}),
    "public.credential_png": ("public", {"public_id": "award"}),
    "public.credential_svg": ("public", {"public_id": "award"}),
    "public.issuer": ("public", {}),
    "public.did_document": ("public", {}),
    "public.status_list": ("public", {"public_id": "status_list"}),
    "public.healthz": ("public", {}),
    "frameworks.qualification_list": ("staff", {}),
    "frameworks.qualification_detail": ("staff", {"source_id": "qualification"}),
    "frameworks.unit_detail": ("staff", {"source_id": "qualification", "code": "unit"}),
    "frameworks.search_json": ("staff", {}),
    "verify.form": ("public", {}),
    "verify.submit": ("public", {}),
    "verify.api_verify": ("public", {}),
    # The JSON API (bearer tokens only; each role's token has every scope its roles allow)
    "api.openapi": ("public", {}),
    "api.docs": ("public", {}),
    "api.unknown_root": ("api_none", {}),
    "api.unknown": ("api_none", {"rest": "nothing-here"}),
    "api.list_badges": ("api_staff_a", {}),
    "api.list_clients": ("api_staff_a", {}),
    "api.list_awards": ("api_staff", {}),
    "api.create_award": ("api_staff_a", {}, {"badge": "{badge}", "client": "{client}"}),
    "api.create_bulk_award": ("api_staff_a", {}, {"organisation": "{slug}",
                                                  "awards": [{"badge": "{badge}", "client": "{client}"}]}),
    "api.get_award": ("api_staff_a", {"award_id": "award"}),
    "api.revoke_award": ("api_staff_a", {"award_id": "award"}, {"reason": "Matrix test."}),
    "api.get_job": ("api_staff_a", {"job_id": "job"}),
    "api.get_me": ("api_user", {}),
    "api.get_own_award": ("api_client_a", {"award_id": "award"}),
    "api.get_passport": ("api_clients", {}),
    "api.create_share": ("api_clients", {}, {"scope": "passport", "purpose": "Matrix", "recipient": "Employer"}),
    "api.list_shares": ("api_clients", {}),
    "api.revoke_share": ("api_client_a", {"share_id": "share"}),
    "api.list_share_accesses": ("api_client_a", {"share_id": "share"}),
    "api_tokens.tokens": ("user", {}),
    "api_tokens.create_token": ("user", {}),
    "api_tokens.revoke_token": ("user", {"public_id": "none"}),
    "endorsements.detail": ("public", {"public_id": "endorsement"}),
    "endorsements.document": ("public", {"public_id": "endorsement"}),
    "endorsements.index": ("staff_a", {}),
    "endorsements.browse": ("staff_a", {}),
    "endorsements.endorse": ("staff_a", {"public_id": "badge_b"}),
    "endorsements.withdraw": ("staff_a", {"public_id": "endorsement"}),
    "ob2.assertion": ("public", {"public_id": "award"}),
    "ob2.baked": ("public", {"public_id": "award"}),
    "ob2.badge_class": ("public", {"public_id": "version"}),
    "ob2.issuer": ("public", {}),
    "ob2.revocations": ("public", {}),
    "evidence.evidence": ("photo", {"public_id": "photo"}),
    # The organisation's workspace
    "coach.home": ("staff_a", {}),
    "coach.audit": ("admin_a", {}),
    "coach.audit_csv": ("admin_a", {}),
    "coach.award_form": ("staff_a", {}),
    "coach.award_preview": ("staff_a", {}),
    "coach.award_confirm": ("staff_a", {}),
    "coach.award_done": ("staff_a", {}),
    "coach.awards": ("staff_a", {}),
    "coach.award_detail": ("staff_a", {"award_id": "award"}),
    "coach.award_reissue": ("staff_a", {"award_id": "award"}),
    "coach.award_revoke": ("staff_a", {"award_id": "award"}),
    "coach.bulk": ("staff_a", {}),
    "coach.bulk_template": ("staff_a", {}),
    "coach.job": ("staff_a", {"job_id": "job"}),
    "coach.job_json": ("staff_a", {"job_id": "job"}),
    "coach.job_discard": ("staff_a", {"job_id": "job"}),
    "coach.job_retry": ("staff_a", {"job_id": "job"}),
    "coach.job_start": ("staff_a", {"job_id": "job"}),
    "applications.coach_index": ("staff_a", {}),
    "applications.coach_detail": ("staff_a", {"public_id": "application"}),
    "applications.answer": ("staff_a", {"public_id": "application"}),
    "applications.award": ("staff_a", {"public_id": "application"}),
    "library.index": ("staff_a", {}),
    "library.badge_detail": ("staff_a", {"public_id": "badge"}),
    "library.badge_edit": ("admin_a", {"public_id": "badge"}),
    "library.badge_retire": ("staff_a", {"public_id": "badge"}),
    "library.badge_unretire": ("staff_a", {"public_id": "badge"}),
    "library.catalogue": ("staff_a", {}),
    "library.catalogue_adopt": ("staff_a", {"catalogue_id": "none", "definition_id": "none"}),
    "library.badge_create": ("admin_a", {}),
    "library.badge_preview_image": ("admin_a", {}),
    "people.clients": ("staff_a", {}),
    "people.client": ("staff_a", {"public_id": "client"}),
    "people.client_activation": ("staff_a", {"public_id": "client"}),
    "people.client_new": ("staff_a", {}),
    "people.invitation_revoke": ("admin_a", {"ref": "invitation"}),
    "people.keys": ("admin_a", {}),
    "people.logo": ("public", {}),
    "people.members": ("admin_a", {}),
    "people.member_remove": ("admin_a", {"public_id": "member"}),
    "people.member_role": ("admin_a", {"public_id": "member"}),
    "people.invite": ("admin_a", {}),
    "people.settings": ("admin_a", {}),
    "people.logo_upload": ("admin_a", {}),
    "people.logo_remove": ("admin_a", {}),
    # The passport and shares: everyone signed in has their own (maybe empty); others' are refused
    "passport.index": ("user", {}),
    "passport.badge": ("client_a", {"public_id": "award"}),
    "passport.evidence_visibility": ("client_a", {"public_id": "award"}),
    "passport.bundle": ("user", {}),
    "passport.data": ("user", {}),
    "passport.data_json": ("user", {}),
    "passport.delete": ("user", {}),
    "passport.pdf": ("user", {}),
    "applications.client_index": ("user", {}),
    "applications.client_detail": ("client_a", {"public_id": "application"}),
    "applications.apply": ("user", {}),
    "sharing.index": ("user", {}),
    "sharing.detail": ("client_a", {"public_id": "share"}),
    "sharing.created": ("client_a", {"public_id": "share"}),
    "sharing.preview_evidence": ("client_a", {"public_id": "share", "evidence_id": "photo"}),
    "sharing.preview": ("client_a", {"public_id": "share"}),
    "sharing.revoke": ("client_a", {"public_id": "share"}),
    "sharing.create": ("user", {}),
    "sharing.public_share": ("public", {}),
    "sharing.public_evidence": ("public", {"evidence_id": "photo"}),
    # Professionals of the service network
    "sharing.network_index": ("professionals", {}),
    "sharing.register_professional": ("public", {}),
    "sharing.network_share": ("pro_share", {"public_id": "share"}),
    "sharing.network_evidence": ("pro_share", {"public_id": "share", "evidence_id": "photo"}),
}

#: Exceptions to a policy for one role (endpoint, role) -> outcome, each with its reason.
EXCEPTIONS: dict[tuple[str, str], str] = {}

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield rule, method


def test_every_route_has_an_entry(app):
    """A new route fails here until someone decides who may open it."""
    missing = sorted({rule.endpoint for rule, _ in _rules(app)} - MATRIX.keys())
    stale = sorted(MATRIX.keys() - {rule.endpoint for rule, _ in _rules(app)})
    assert not missing, f"routes without an authorization entry: {missing}"
    assert not stale, f"entries for routes that no longer exist: {stale}"


def _url(rule, values: dict[str, str]) -> str:
    mapping = MATRIX[rule.endpoint][1]
    parts = {}
    for name in rule.arguments:
        key = mapping.get(name, name)
        parts[name] = values.get(key, key if name in mapping else "does-not-exist")
    return rule.build(parts, append_unknown=False)[1]


def _body(endpoint: str, values: dict[str, str]):
    """Return the JSON body of a write to the API, its world values filled in (None for forms)."""
    entry = MATRIX[endpoint]
    if len(entry) < 3:
        return None

    def fill(item):
        if isinstance(item, str):
            return item.format(**values)
        if isinstance(item, list):
            return [fill(x) for x in item]
        return {key: fill(value) for key, value in item.items()}

    return fill(entry[2])


def _outcome(response) -> str:
    if response.status_code in (401,):
        return "login"
    if response.status_code == 422 and response.is_json and str(response.json.get("code", "")).startswith("unknown_"):
        return "deny"  # the API answers an object of someone else's as if it did not exist
    if response.status_code in (301, 302, 303, 307, 308):
        target = urlsplit(response.headers.get("Location", "")).path
        return "login" if target.rstrip("/").endswith("/login") else "ok"
    if response.status_code in (403, 404):
        return "deny"
    if response.status_code >= 500:
        return f"error {response.status_code}"
    return "ok"


def _census(session) -> dict[str, int]:
    models = (Achievement, ApiToken, Award, Endorsement, BadgeApplication, EvidenceFile, Invitation, Job, Membership, Share, User)
    counts = {model.__name__: session.scalar(select(func.count()).select_from(model)) for model in models}
    counts["revoked awards"] = session.scalar(select(func.count()).select_from(Award).where(Award.revoked_at.is_not(None)))
    counts["withdrawn endorsements"] = session.scalar(
        select(func.count()).select_from(Endorsement).where(Endorsement.revoked_at.is_not(None)))
    counts["revoked shares"] = session.scalar(select(func.count()).select_from(Share).where(Share.revoked_at.is_not(None)))
    return counts


@pytest.mark.parametrize("role", ROLES)
def test_every_route_for_every_role(role, app, session, site, make_org, make_user, make_badge):
    """Each route answers each role as its policy says; refused writes change nothing."""
    world = build_world(session, site, make_org, make_user, make_badge)
    client = app.test_client()
    user = world.users[role]
    headers = {}
    if role in TOKEN_HOLDERS:
        staff = role in ("coach_a", "admin_a", "coach_b")
        scopes = api_tokens.STAFF_SCOPES if staff else api_tokens.CLIENT_SCOPES
        _token, text = api_tokens.create_token(session, user, name="matrix", scopes=scopes, now=now())
        session.commit()
        headers["Authorization"] = f"Bearer {text}"
    if user is not None:
        sign_in(client, user)
    before = _census(session)
    wrong = []
    writes = []
    for rule, method in _rules(app):
        if rule.endpoint not in MATRIX:
            continue
        policy = MATRIX[rule.endpoint][0]
        expected = EXCEPTIONS.get((rule.endpoint, role), POLICIES[policy][role])
        if method in WRITE_METHODS:
            if expected == "ok":
                continue
            writes.append((rule, method, expected))
            continue
        url = _url(rule, world.values)
        if user is not None:  # some pages (activation, invitations) sign the current person out
            sign_in(client, user)
        response = client.open(url, method=method, headers=headers)
        got = _outcome(response)
        response.close()
        if got != expected:
            wrong.append(f"{method} {url} ({rule.endpoint}): expected {expected}, got {got}")
    for rule, method, expected in writes:  # after the reads: nothing a refused write does may matter
        url = _url(rule, world.values)
        if user is not None:
            sign_in(client, user)
        body = _body(rule.endpoint, world.values)
        if body is None:
            response = client.open(url, method=method, data={}, headers=headers)
        else:
            response = client.open(url, method=method, json=body, headers=headers)
        got = _outcome(response)
        response.close()
        if got != expected:
            wrong.append(f"{method} {url} ({rule.endpoint}): expected {expected}, got {got}")
    session.expire_all()
    assert not wrong, f"{role}:\n" + "\n".join(wrong)
    assert _census(session) == before, "a refused request changed something"
