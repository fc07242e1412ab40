"""Demo data: one clearly marked demo organisation with people, badges and awards."""

import json
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from badges import endorsements, frameworks, services
from badges.core.criteria import parse_catalogue
from badges.db import PROJECT_ROOT
from badges.models import Organisation

DEMO_SLUG = "demo-saatio"
PASSWORD = "demo-password"  # noqa: S105 - published demo password, demo data only  # nosec B105
LOGINS = (
    ("admin@demo.test", "admin"),
    ("coach@demo.test", "coach"),
    ("client@demo.test", "client"),
    ("teacher@demo.test", "education provider (endorses badges)"),
)
#: A vocational school that endorses a demo badge (an organisation of kind education_provider).
SCHOOL_SLUG = "demo-ammattiopisto"
CATALOGUE = PROJECT_ROOT / "criteria" / "demo-tyopaja.json"


def load(session: Session, site: services.Site, *, now: datetime) -> bool:
    """Create the demo data unless it exists; return True when something was created."""
    if session.scalar(select(Organisation.id).where(Organisation.slug == DEMO_SLUG)):
        return False
    frameworks.import_demo(session, now)  # qualification data the demo badges are aligned to
    organisation = services.create_organisation(
        session, site, slug=DEMO_SLUG, name="Demosäätiö – Työpaja Verstas", now=now,
        url=site.url(f"/issuers/{DEMO_SLUG}"), email="info@demo.test", is_demo=True,
        description="Esimerkkiorganisaatio Osaamispassin kokeiluun. Demo organisation for trying Osaamispassi.",
    )
    admin = services.create_user(session, display_name="Aino Admin (demo)", email="admin@demo.test",
                                 password=PASSWORD, now=now)
    coach = services.create_user(session, display_name="Kalle Valmentaja (demo)", email="coach@demo.test",
                                 password=PASSWORD, now=now)
    client = services.create_user(session, display_name="Sanni Esimerkki", email="client@demo.test",
                                  password=PASSWORD, now=now)
    second = services.create_user(session, display_name="Aleksi Esimerkki", now=now)
    services.add_member(session, admin, organisation, "admin", now=now)
    services.add_member(session, coach, organisation, "coach", now=now)
    for person in (client, second):
        services.add_member(session, person, organisation, "client", now=now)

    school = services.create_organisation(
        session, site, slug=SCHOOL_SLUG, name="Demo-ammattiopisto", now=now, kind="education_provider",
        url=site.url(f"/issuers/{SCHOOL_SLUG}"), email="opisto@demo.test", is_demo=True,
        description="Esimerkkioppilaitos, joka suosittelee työpajojen merkkejä. Demo vocational school.",
    )
    teacher = services.create_user(session, display_name="Outi Opettaja (demo)", email="teacher@demo.test",
                                   password=PASSWORD, now=now)
    services.add_member(session, teacher, school, "admin", now=now)

    catalogue = parse_catalogue(json.loads(CATALOGUE.read_text(encoding="utf-8")))
    versions = []
    for definition in catalogue.definitions:
        achievement = services.create_achievement(
            session, organisation, name=definition.name["fi"], description=definition.description["fi"],
            criteria=definition.criteria["fi"], image_alt=definition.image_alt["fi"], now=now, language="fi",
            alignments=definition.alignments, valid_days=definition.valid_days,
            plain_description=definition.plain_fi, catalogue_ref=f"{catalogue.id}/{definition.id}",
        )
        versions.append(achievement.current)

    endorsements.create_endorsement(
        session, site, endorser=school, achievement=versions[0].achievement, actor=teacher,
        now=now - timedelta(days=20), codes=[a["targetCode"] for a in versions[0].alignments],
        comment="Merkki osoittaa tämän ammattitaitovaatimuksen. Otamme sen huomioon osaamisen tunnustamisessa.",
    )

    earlier = now - timedelta(days=14)
    services.issue_award(session, site, version=versions[0], recipient=client, issued_by=coach, now=earlier,
                         evidence_note="Tunnisti koivun, männyn, kuusen, vanerin ja MDF-levyn.")
    services.issue_award(session, site, version=versions[1], recipient=client, issued_by=coach, now=now)
    services.issue_award(session, site, version=versions[2], recipient=client, issued_by=coach, now=now)
    mistaken = services.issue_award(session, site, version=versions[1], recipient=second, issued_by=coach, now=earlier)
    services.revoke_award(session, site, mistaken, reason="Myönnetty vahingossa väärälle henkilölle.", actor=coach, now=now)
    services.issue_award(session, site, version=versions[0], recipient=second, issued_by=coach, now=now)
    return True
