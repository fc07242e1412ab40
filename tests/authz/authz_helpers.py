"""The people and objects of the authorization matrix: two organisations, their staff and clients,
a professional with and one without a live share, and one object of every kind that has a URL."""

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import g, has_app_context
from flask_login.utils import _create_identifier
from PIL import Image

from badges import accounts, applications, endorsements, awarding, people, services, sharing
from badges.models import Qualification, Requirement, StatusList, Unit, User

#: The one-time value of the coach's award form that issued client A's award.
NONCE = "authz-matrix-form-0001"

#: The roles every route is tried with.
ROLES = ("anonymous", "client_a", "client_b", "pro_share", "pro_none", "coach_a", "admin_a", "coach_b")


def now() -> datetime:
    """Return the real current time (what the web layer uses)."""
    return datetime.now(UTC)


def png_bytes() -> bytes:
    """Return a small PNG photo."""
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def sign_in(client, user: User) -> None:
    """Log ``user`` in without the password form (fast, and free of rate limits)."""
    with client.application.test_request_context():
        identifier = _create_identifier()  # the same browser the test client claims to be
    with client.session_transaction() as cookie:
        cookie["_user_id"] = user.public_id
        cookie["_fresh"] = True
        cookie["_id"] = identifier
    if has_app_context():
        g.pop("_login_user", None)


@dataclass
class World:
    """Everything a URL of the app can point at, keyed by the URL variable it fills."""

    users: dict[str, User | None]
    values: dict[str, str] = field(default_factory=dict)


def build_world(session, site, make_org, make_user, make_badge) -> World:
    """Create the people and one object of each kind (all of organisation A, client A's)."""
    moment = now()
    org_a = make_org("verstas", "Työpaja Verstas")
    org_b = make_org("toinen", "Säätiö Toinen")
    admin_a = make_user("admin@example.test", "Aino Admin", organisation=org_a, role="admin", password=None)
    coach_a = make_user("coach@example.test", "Kalle Valmentaja", organisation=org_a, role="coach", password=None)
    client_a = make_user("maija@example.test", "Maija Meikäläinen", organisation=org_a, role="client", password=None)
    client_b = make_user("matti@example.test", "Matti Virtanen", organisation=org_a, role="client", password=None)
    coach_b = make_user("other.coach@example.test", "Olli Muu", organisation=org_b, role="coach", password=None)
    make_user("other.client@example.test", "Outi Muu", organisation=org_b, role="client", password=None)
    pro_share = sharing.register_professional(session, display_name="Sanna Sosiaalityö", email="sanna@kunta.test",
                                              organisation="Kunta", password="correct horse battery staple",
                                              now=moment)
    pro_none = sharing.register_professional(session, display_name="Pekka Muu", email="pekka@kunta.test",
                                             organisation="Kunta", password="correct horse battery staple",
                                             now=moment)
    badge = make_badge(org_a)
    second = make_badge(org_a, name="Turvallinen työskentely", criteria="Osaa käyttää suojaimia oikein.")
    photo = awarding.store_photo(session, org_a, subject=client_a, uploaded_by=coach_a, data=png_bytes(), now=moment)
    award = awarding.award_one(session, site, org_a, version=badge.current, recipient=client_a, key=awarding.form_key(NONCE, client_a),
                               now=moment, issued_by=coach_a, note="Tunnisti puulajit.", photo=photo)
    share, token = sharing.create_share(session, client=client_a, scope="passport", purpose="Työnhaku",
                                        recipient_user=pro_share, include_evidence=True, now=moment)
    application = applications.submit(session, client=client_a, badge_id=second.public_id,
                                      statement="Tunnistin koivun.", photo=None, now=moment - timedelta(minutes=1))
    job = awarding.create_job(session, org_a, rows=[], created_by=coach_a, now=moment, source="group",
                              status="draft")
    invitation, invite_token = people.invite(session, org_a, email="new.coach@example.test", role="coach",
                                       actor=admin_a, now=moment)
    _user, reset_token = accounts.request_reset(session, "matti@example.test", now=moment)
    org_a.logo_png = png_bytes()
    qualification = Qualification(source="eperusteet", source_id="3932281", names={"fi": "Puuteollisuuden perustutkinto"},
                                  imported_at=moment)
    unit = Unit(code="106945", names={"fi": "Puutuotteiden valmistus"}, position=0)
    unit.requirements.append(Requirement(key="ammattitaitovaatimukset_414", texts={"fi": "Käyttää materiaaleja."},
                                         position=0))
    qualification.units.append(unit)
    session.add(qualification)
    # Organisation A is also an education provider: it has endorsed organisation B's badge.
    org_a.kind = "education_provider"
    badge_b = make_badge(org_b, name="Vieras merkki")
    session.flush()
    endorsement = endorsements.create_endorsement(
        session, site, endorser=org_a, achievement=badge_b, comment="Osoittaa vaatimuksen.",
        codes=["ammattitaitovaatimukset_414"], actor=admin_a, now=moment,
    )
    session.commit()
    status_list = session.get(StatusList, award.status_list_id)
    users = {"anonymous": None, "client_a": client_a, "client_b": client_b, "pro_share": pro_share,
             "pro_none": pro_none, "coach_a": coach_a, "admin_a": admin_a, "coach_b": coach_b}
    values = {
        "slug": org_a.slug, "badge": badge.public_id, "version": badge.current.public_id,
        "award": award.public_id, "share": share.public_id, "token": token, "photo": photo.public_id,
        "application": application.public_id, "job": job.public_id,
        "invitation": people.invitation_ref(invitation), "invite_token": invite_token, "nonce": NONCE,
        "badge_b": badge_b.public_id, "endorsement": endorsement.public_id, "reset_token": reset_token,
        "member": coach_a.public_id, "client": client_a.public_id, "status_list": status_list.public_id,
        "admin": admin_a.public_id,
        "qualification": qualification.source_id, "unit": unit.code,
    }
    return World(users, values)
