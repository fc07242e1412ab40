"""Library use cases: adopt, create, edit (new versions), retire, alignments, audit events."""

import json

import pytest
from helpers import FIXED_NOW, REPO_ROOT
from library_helpers import Lib, db, png_bytes
from sqlalchemy import select

from badges import library, services
from badges.core import artwork
from badges.models import Achievement, AuditEvent, Award, Organisation


def org(session, slug: str) -> Organisation:
    return services.get_organisation(session, slug)


def draft(**overrides) -> library.BadgeDraft:
    values = {
        "language": "fi",
        "texts": {
            "fi": {
                "name": "Lumityöt",
                "description": "Osaa tehdä lumityöt.",
                "criteria": "Osaa aurata pihan.",
                "image_alt": "Sininen merkki: Lumityöt",
                "evidence_guidance": "Valokuva pihasta.",
            },
            "sv": {
                "name": "Snöröjning",
                "description": "Kan röja snö.",
                "criteria": "Kan ploga gården.",
                "image_alt": "Blått märke: Snöröjning",
            },
            "en": {"name": "Snow clearing", "description": "", "criteria": "", "image_alt": ""},
        },
        "alignment_codes": ["ammattitaitovaatimukset_416", "osaamismerkit_1016"],
        "colour": "#0b5394",
    }
    values.update(overrides)
    return library.BadgeDraft(**values)


def actions(session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_adopt_copies_the_definition_with_translations_and_a_versioned_reference(app, lib: Lib):
    with db(app) as session:
        badge = library.adopt(
            session,
            org(session, lib.org),
            "tyopaja-perustaidot",
            "puutyo-turvallisuus",
            now=FIXED_NOW,
        )
        session.commit()
        version = badge.current
        assert badge.catalogue_ref == "tyopaja-perustaidot/puutyo-turvallisuus@2026.1"
        assert version.language == "fi"
        assert version.name == "Turvallinen työskentely puutyöpajassa"
        assert version.criteria_narrative.startswith("Osaa ")
        assert version.translations["sv"]["name"] == "Säkert arbete i träverkstaden"
        assert version.translations["en"]["criteria"].startswith("Can ")
        assert version.translations["en"]["evidence_guidance"]
        assert version.valid_days == 365
        assert version.plain_description
        assert [a["targetCode"] for a in version.alignments] == [
            "ammattitaitovaatimukset_416",
            "osaamismerkit_1016",
        ]
        assert version.image_png == artwork.default_badge_png(version.name, "#7a4a00")
        assert actions(session)[-1] == "badge.adopt"


def test_an_organisation_writing_swedish_gets_swedish_as_the_primary_language(app, lib: Lib):
    with db(app) as session:
        organisation = org(session, lib.other)
        organisation.language = "sv"
        badge = library.adopt(
            session, organisation, "tyopaja-perustaidot", "viher-koneet", now=FIXED_NOW
        )
        assert badge.current.language == "sv"
        assert badge.current.name == "Användning av maskiner i grönområden"
        assert set(badge.current.translations) == {"fi", "en"}


def test_adopting_twice_is_refused_also_after_retiring(app, lib: Lib):
    with db(app) as session:
        organisation = org(session, lib.org)
        badge = library.adopt(
            session, organisation, "tyopaja-perustaidot", "perus-ajankaytto", now=FIXED_NOW
        )
        with pytest.raises(library.AlreadyAdoptedError):
            library.adopt(
                session, organisation, "tyopaja-perustaidot", "perus-ajankaytto", now=FIXED_NOW
            )
        library.retire(session, badge, now=FIXED_NOW)
        with pytest.raises(library.AlreadyAdoptedError):
            library.adopt(
                session, organisation, "tyopaja-perustaidot", "perus-ajankaytto", now=FIXED_NOW
            )
        # Another organisation may adopt the same definition.
        library.adopt(
            session,
            org(session, lib.other),
            "tyopaja-perustaidot",
            "perus-ajankaytto",
            now=FIXED_NOW,
        )


def test_badges_adopted_by_the_demo_without_a_version_count_as_adopted(app, lib: Lib):
    with db(app) as session:
        organisation = org(session, lib.org)
        services.create_achievement(
            session,
            organisation,
            name="Demo",
            description="Osaa.",
            criteria="Osaa.",
            image_alt="Merkki",
            now=FIXED_NOW,
            catalogue_ref="demo-tyopaja/ajankaytto",
        )
        with pytest.raises(library.AlreadyAdoptedError):
            library.adopt(session, organisation, "demo-tyopaja", "ajankaytto", now=FIXED_NOW)
        assert "demo-tyopaja/ajankaytto" in library.adopted(session, organisation)


def test_adopting_an_unknown_definition_is_not_found(app, lib: Lib):
    with db(app) as session, pytest.raises(services.NotFoundError):
        library.adopt(
            session, org(session, lib.org), "tyopaja-perustaidot", "no-such", now=FIXED_NOW
        )


def test_create_own_resolves_codes_from_the_imported_frameworks(app, lib: Lib):
    with db(app) as session:
        badge = library.create_own(session, org(session, lib.org), draft(), now=FIXED_NOW)
        session.commit()
        version = badge.current
        assert badge.catalogue_ref is None
        assert version.name == "Lumityöt"
        assert version.evidence_guidance == "Valokuva pihasta."
        # Swedish is complete; English is not, so it is left out.
        assert set(version.translations) == {"sv"}
        first, second = version.alignments
        assert first["targetCode"] == "ammattitaitovaatimukset_416"
        assert (
            first["targetName"]
            == "Opiskelija noudattaa puutuotevalmistuksessa turvallisuusohjeita ja -määräyksiä."
        )
        assert first["targetUrl"].startswith("https://")
        assert second["targetCode"] == "osaamismerkit_1016"
        assert actions(session)[-1] == "badge.create"


def test_unknown_codes_are_all_reported_and_nothing_is_saved(app, lib: Lib):
    with db(app) as session:
        before = session.query(Achievement).count()
        with pytest.raises(library.UnknownAlignmentError) as caught:
            library.create_own(
                session,
                org(session, lib.org),
                draft(alignment_codes=["osaamismerkit_1016", "tutkinnonosat_999999", "keksitty_1"]),
                now=FIXED_NOW,
            )
        assert caught.value.codes == ("tutkinnonosat_999999", "keksitty_1")
        session.rollback()
        assert session.query(Achievement).count() == before


def test_too_many_codes_are_refused(app, lib: Lib):
    with db(app) as session, pytest.raises(library.TooManyAlignmentsError):
        library.resolve_alignments(session, [f"osaamismerkit_{1000 + n}" for n in range(21)])


def test_parse_codes_splits_on_commas_spaces_and_lines_without_repeats():
    assert library.parse_codes(" a_1, b_2;\n\nc_3  a_1\r\n") == ["a_1", "b_2", "c_3"]
    assert library.parse_codes(None) == []


def test_edit_makes_a_new_version_and_the_award_keeps_version_one(app, lib: Lib):
    with db(app) as session:
        badge = session.scalar(select(Achievement).where(Achievement.public_id == lib.badge))
        first_image = badge.current.image_png
        version = library.edit(
            session, badge, draft(colour=None, alignment_codes=[]), now=FIXED_NOW
        )
        session.commit()
        assert version.number == 2
        assert badge.current.name == "Lumityöt"
        # No upload and no colour chosen: the image stays exactly as it was.
        assert version.image_png == first_image
        assert version.image_svg == badge.versions[0].image_svg
        award = session.scalar(select(Award).where(Award.public_id == lib.award))
        assert award.achievement_version.number == 1
        assert award.achievement_version.name == "Puulajien tunnistaminen"
        assert (
            json.loads(award.document)["credentialSubject"]["achievement"]["name"]
            == "Puulajien tunnistaminen"
        )
        assert actions(session)[-1] == "badge.edit"


def test_edit_with_a_colour_draws_a_new_image_and_an_upload_wins(app, lib: Lib):
    with db(app) as session:
        badge = session.scalar(select(Achievement).where(Achievement.public_id == lib.badge))
        first = badge.current.image_png
        green = library.edit(session, badge, draft(colour="#1d6b3a"), now=FIXED_NOW)
        assert green.image_png != first
        assert green.image_png == artwork.default_badge_png("Lumityöt", "#1d6b3a")
        uploaded = png_bytes()
        third = library.edit(
            session, badge, draft(image_png=uploaded, colour="#8a2c0d"), now=FIXED_NOW
        )
        assert third.image_png == uploaded
        assert third.number == 3


def test_edit_keeps_catalogue_alignments_whose_framework_is_not_imported(app, lib: Lib):
    with db(app) as session:
        badge = library.adopt(
            session, org(session, lib.org), "tyopaja-perustaidot", "varasto-keraily", now=FIXED_NOW
        )
        codes = [a["targetCode"] for a in badge.current.alignments]
        assert codes == ["tutkinnonosat_105764"]  # not in the imported demo frameworks
        version = library.edit(session, badge, draft(alignment_codes=codes), now=FIXED_NOW)
        assert version.alignments == badge.versions[0].alignments


def test_retire_and_unretire_are_audited_and_idempotent(app, site, lib: Lib):
    with db(app) as session:
        badge = session.scalar(select(Achievement).where(Achievement.public_id == lib.badge))
        library.retire(session, badge, now=FIXED_NOW)
        library.retire(session, badge, now=FIXED_NOW)
        client = session.scalar(select(Award).where(Award.public_id == lib.award)).recipient
        with pytest.raises(services.BadgeRetiredError):
            services.issue_award(
                session, site, version=badge.current, recipient=client, now=FIXED_NOW
            )
        library.unretire(session, badge, now=FIXED_NOW)
        library.unretire(session, badge, now=FIXED_NOW)
        assert badge.retired_at is None
        assert actions(session)[-2:] == ["badge.retire", "badge.unretire"]


def test_library_lists_badges_with_award_counts(app, lib: Lib):
    with db(app) as session:
        organisation = org(session, lib.org)
        library.adopt(
            session, organisation, "tyopaja-perustaidot", "keittio-hygienia", now=FIXED_NOW
        )
        entries = {e.version.name: e for e in library.library_of(session, organisation)}
        assert entries["Puulajien tunnistaminen"].awards == 1
        assert entries["Hygieeninen työskentely keittiössä"].awards == 0
        assert "Nurmikon leikkaaminen" not in entries  # organisation B's badge


def test_invalid_draft_values_are_refused(app, lib: Lib):
    with db(app) as session:
        for bad in (
            draft(valid_days=0),
            draft(valid_days=4000),
            draft(colour="#123456"),
            draft(language="de"),
        ):
            with pytest.raises(services.InvalidInputError):
                library.create_own(session, org(session, lib.org), bad, now=FIXED_NOW)


def test_the_palette_and_the_catalogue_schema_agree():
    schema = json.loads(
        (REPO_ROOT / "criteria" / "catalogue.schema.json").read_text(encoding="utf-8")
    )
    assert schema["$defs"]["definition"]["properties"]["colour"]["pattern"] == "^#[0-9a-fA-F]{6}$"
    assert all(len(c) == 7 and c.startswith("#") for c in artwork.PALETTE)
    assert library.preview_png("Lumityöt", "#005f6b") == artwork.default_badge_png(
        "Lumityöt", "#005f6b"
    )
    assert library.preview_png("", "not a colour")  # a name-less preview still draws
