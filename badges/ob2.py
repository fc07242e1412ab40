"""Open Badges 2.0 export: every award also as a hosted Assertion, with its BadgeClass and Issuer.

The documents are built on request from the stored award (nothing new is stored): the
recipient comes from the signed OB 3.0 credential's hashed identifier, so the Assertion is
the same at every request. Assertions are public by URL, as hosted verification requires;
the URL carries the award's random public id, and no name or e-mail address appears in
clear text. Like :mod:`badges.services`, nothing here imports Flask.
"""

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from badges import services
from badges.core.baking import LEGACY_PNG_KEYWORD, bake_png
from badges.core.ob2 import (
    AssertionData,
    BadgeClassData,
    IssuerData,
    build_assertion,
    build_badge_class,
    build_issuer,
    build_revocation_list,
    build_revoked_assertion,
    recipient_from_identity,
)
from badges.models import AchievementVersion, Award, Organisation

#: The published reason of a revoked Assertion, in the badge's language. The coach's own
#: words stay where the app shows them (to the holder and the issuer's staff only): the
#: public credential page promises that, and the words may be personal.
REVOKED_REASON = {
    "fi": "Myöntäjä on perunut tämän merkin.",
    "sv": "Utfärdaren har återkallat detta märke.",
    "en": "The issuer has revoked this badge.",
}
#: A RevocationList lists at most this many revocations, the newest (hosted badges need none of it).
MAX_REVOKED_LISTED = 10_000


def assertion_url(site: services.Site, public_id: str) -> str:
    """Return the id (and address) of an award's OB 2.0 Assertion."""
    return site.url(f"/ob2/assertions/{public_id}")


def baked_url(site: services.Site, public_id: str) -> str:
    """Return the address of the award's baked OB 2.0 PNG."""
    return site.url(f"/ob2/assertions/{public_id}.png")


def badge_class_url(site: services.Site, version_public_id: str) -> str:
    """Return the id of a badge version's BadgeClass."""
    return site.url(f"/ob2/badges/{version_public_id}")


def issuer_url(site: services.Site, slug: str) -> str:
    """Return the id of an organisation's OB 2.0 issuer Profile."""
    return site.url(f"/ob2/issuers/{slug}")


def revocation_list_url(site: services.Site, slug: str) -> str:
    """Return the id of an organisation's OB 2.0 RevocationList."""
    return site.url(f"/ob2/issuers/{slug}/revocations")


def revoked_reason(award: Award) -> str:
    """Return the published reason of a revoked award (neutral, in the badge's language)."""
    return REVOKED_REASON.get(award.achievement_version.language, REVOKED_REASON["fi"])


def _identity(document: dict[str, Any]) -> dict[str, Any]:
    subject = document.get("credentialSubject")
    identifiers = subject.get("identifier") if isinstance(subject, dict) else None
    first = identifiers[0] if isinstance(identifiers, list) and identifiers else None
    return first if isinstance(first, dict) else {}


def assertion_document(site: services.Site, award: Award) -> dict[str, Any]:
    """Return the award's OB 2.0 Assertion; a revoked award answers only ``revoked`` and a reason."""
    if award.revoked_at is not None:
        return build_revoked_assertion(assertion_url(site, award.public_id), revoked_reason(award))
    document = json.loads(award.document)
    credential_url = document.get("id")
    if not isinstance(credential_url, str):
        credential_url = site.credential_url(award.public_id)
    evidence = [] if award.evidence_hidden else [e for e in document.get("evidence") or [] if isinstance(e, dict)]
    return build_assertion(AssertionData(
        id=assertion_url(site, award.public_id),
        badge=badge_class_url(site, award.achievement_version.public_id),
        recipient=recipient_from_identity(_identity(document), fallback_url=credential_url),
        issued_on=award.issued_at,
        image=baked_url(site, award.public_id),
        expires=award.valid_until,
        evidence=evidence,
    ))


def baked_png(site: services.Site, award: Award) -> bytes:
    """Return the badge image with the full Assertion JSON baked in (iTXt ``openbadges``)."""
    text = json.dumps(assertion_document(site, award), ensure_ascii=False, separators=(",", ":"))
    return bake_png(award.achievement_version.image_png, text, keyword=LEGACY_PNG_KEYWORD)


def badge_class_document(site: services.Site, version: AchievementVersion) -> dict[str, Any]:
    """Return one badge version as an OB 2.0 BadgeClass, aligned like its OB 3.0 Achievement."""
    organisation = version.achievement.organisation
    return build_badge_class(BadgeClassData(
        id=badge_class_url(site, version.public_id),
        name=version.name,
        description=version.description,
        image=site.url(f"/achievements/{version.public_id}/image.png"),
        criteria_narrative=version.criteria_narrative,
        criteria_url=site.achievement_url(version.public_id),
        issuer=issuer_url(site, organisation.slug),
        language=version.language,
        version=str(version.number),
        alignments=[a for a in version.alignments if isinstance(a, dict)],
    ))


def issuer_document(site: services.Site, organisation: Organisation) -> dict[str, Any]:
    """Return the organisation as an OB 2.0 issuer Profile (name, url, e-mail, logo)."""
    return build_issuer(IssuerData(
        id=issuer_url(site, organisation.slug),
        name=organisation.name,
        url=organisation.url or site.url(f"/issuers/{organisation.slug}"),
        email=organisation.email,
        description=organisation.description,
        image=site.url(f"/org/{organisation.slug}/logo.png") if organisation.logo_png else None,
        revocation_list=revocation_list_url(site, organisation.slug),
    ))


def revocation_list_document(session: Session, site: services.Site, organisation: Organisation) -> dict[str, Any]:
    """Return the organisation's OB 2.0 RevocationList (the newest revocations first)."""
    revoked = session.scalars(
        select(Award).where(Award.organisation_id == organisation.id, Award.revoked_at.is_not(None))
        .order_by(Award.revoked_at.desc(), Award.id.desc()).limit(MAX_REVOKED_LISTED)
    )
    return build_revocation_list(
        revocation_list_url(site, organisation.slug), issuer_url(site, organisation.slug),
        [(assertion_url(site, award.public_id), revoked_reason(award)) for award in revoked],
    )

