"""Importing frameworks into the database, re-importing newer versions, look-ups and search."""

import copy
from datetime import timedelta
from pathlib import Path

import pytest
from frameworks_helpers import (
    DATA,
    DEMO_DATA,
    EPERUSTEET,
    OSAAMISMERKIT_CODES,
    OSAAMISMERKIT_EXTERNAL,
    load,
    shared_file,
)
from helpers import FIXED_NOW
from sqlalchemy import func, select

from badges import frameworks
from badges.core.eperusteet import FrameworkFormatError, NotFrameworkError
from badges.models import Qualification, Requirement, Unit

LATER = FIXED_NOW + timedelta(days=30)


def requirement(session, key: str) -> Requirement:
    """Return the stored requirement ``key``."""
    return session.scalar(select(Requirement).where(Requirement.key == key))


def kohdealue(document: dict, code: str) -> dict:
    """Return the assessment area of ``code`` in a reform-2018 peruste document."""
    for unit in document["tutkinnonOsat"]:
        for area in unit["arviointi"]["arvioinninKohdealueet"]:
            if area["koodi"]["uri"] == code:
                return area
    raise KeyError(code)


def test_import_stores_qualification_units_requirements_and_criteria(session, demo_peruste):
    report = frameworks.import_document(session, demo_peruste, now=FIXED_NOW)
    session.commit()
    assert report.status == "imported"
    assert (report.units_added, report.requirements_added, report.requirements_withdrawn) == (2, 6, 0)
    qualification = session.scalar(select(Qualification))
    assert (qualification.source, qualification.source_id, qualification.diaarinumero) == (
        "eperusteet", "3932281", "OPH-2455-2017")
    assert (qualification.kind, qualification.format_generation) == ("koulutustyyppi_1", "2018")
    assert qualification.names["fi"] == "Puuteollisuuden perustutkinto"
    assert qualification.imported_at == FIXED_NOW
    assert [(u.code, u.source_id, u.points, u.position) for u in qualification.units] == [
        ("tutkinnonosat_105444", "3944378", 45, 0), ("tutkinnonosat_105438", "3944372", 20, 1)]
    stored = requirement(session, "ammattitaitovaatimukset_414")
    assert stored.unit.code == "tutkinnonosat_105444"
    assert stored.texts["fi"] == "Opiskelija käyttää puuteollisuuden materiaaleja ja jatkojalosteita."
    assert list(stored.criteria) == ["T1", "H3", "K5"]
    assert stored.criteria["T1"]["fi"][0] == "tunnistaa yleisimmät puulajit ja levytuotteet"
    assert stored.withdrawn_at is None


def test_importing_the_same_version_again_changes_nothing(session, demo_peruste):
    frameworks.import_document(session, demo_peruste, now=FIXED_NOW)
    again = frameworks.import_document(session, demo_peruste, now=LATER)
    assert again.status == "updated"
    assert again.summary() == "no changes"
    assert session.scalar(select(func.count(Requirement.id))) == 6


def test_reimport_updates_in_place_withdraws_missing_adds_new_and_alignments_still_resolve(
    session, demo_peruste, make_org, make_badge,
):
    frameworks.import_document(session, demo_peruste, now=FIXED_NOW)
    kept_id = requirement(session, "ammattitaitovaatimukset_413").id
    badge = make_badge(make_org(), alignments=[
        frameworks.alignment_for(session, key) for key in
        ("ammattitaitovaatimukset_413", "ammattitaitovaatimukset_415", "tutkinnonosat_105444")
    ])
    session.commit()

    newer = copy.deepcopy(demo_peruste)
    kohdealue(newer, "ammattitaitovaatimukset_413")["otsikko"]["fi"] = "Opiskelija suunnittelee <em>uudella</em> tavalla."
    areas = newer["tutkinnonOsat"][0]["arviointi"]["arvioinninKohdealueet"]
    areas.remove(kohdealue(newer, "ammattitaitovaatimukset_415"))
    added = copy.deepcopy(areas[0])
    added["koodi"]["uri"] = "ammattitaitovaatimukset_416"
    added["otsikko"] = {"fi": "Opiskelija noudattaa turvallisuusohjeita."}
    areas.append(added)
    report = frameworks.import_document(session, newer, now=LATER)
    session.commit()

    assert report.status == "updated"
    assert (report.requirements_added, report.requirements_updated, report.requirements_withdrawn) == (1, 1, 1)
    changed = requirement(session, "ammattitaitovaatimukset_413")
    assert changed.id == kept_id, "updated in place, not replaced"
    assert changed.texts["fi"] == "Opiskelija suunnittelee uudella tavalla."
    removed = requirement(session, "ammattitaitovaatimukset_415")
    assert removed is not None, "never deleted"
    assert removed.withdrawn_at == LATER
    assert requirement(session, "ammattitaitovaatimukset_416").withdrawn_at is None
    for alignment in badge.current.alignments:
        resolved = frameworks.alignment_for(session, alignment["targetCode"])
        assert resolved is not None, alignment["targetCode"]
        assert resolved["targetUrl"] == alignment["targetUrl"]
    assert frameworks.alignment_for(session, "ammattitaitovaatimukset_413")["targetName"] == \
        "Opiskelija suunnittelee uudella tavalla."

    back = frameworks.import_document(session, demo_peruste, now=LATER + timedelta(days=1))
    assert (back.requirements_restored, back.requirements_withdrawn) == (1, 1)
    assert requirement(session, "ammattitaitovaatimukset_415").withdrawn_at is None
    assert requirement(session, "ammattitaitovaatimukset_416").withdrawn_at is not None


def test_a_unit_missing_from_a_newer_peruste_keeps_its_code_and_withdraws_its_requirements(session, demo_peruste):
    frameworks.import_document(session, demo_peruste, now=FIXED_NOW)
    newer = copy.deepcopy(demo_peruste)
    newer["tutkinnonOsat"] = newer["tutkinnonOsat"][:1]
    report = frameworks.import_document(session, newer, now=LATER)
    assert report.requirements_withdrawn == 3
    unit = session.scalar(select(Unit).where(Unit.code == "tutkinnonosat_105438"))
    assert unit is not None
    assert all(r.withdrawn_at == LATER for r in unit.requirements)
    assert frameworks.alignment_for(session, "tutkinnonosat_105438") is not None


def test_a_file_that_fails_leaves_nothing_half_written(session, demo_peruste):
    broken = copy.deepcopy(demo_peruste)
    broken["tutkinnonOsat"][1]["laajuus"] = "paljon"
    with pytest.raises(FrameworkFormatError, match=r"tutkinnonOsat\[1\]\.laajuus"):
        frameworks.import_document(session, broken, now=FIXED_NOW)
    session.rollback()
    assert session.scalar(select(func.count(Qualification.id))) == 0


def test_single_units_and_code_lists_leave_other_stored_units_alone(session, tmp_path: Path):
    first = load(DATA / "tutkinnonosa_html_list.json")
    second = copy.deepcopy(first)
    second.update(koodiUri="tutkinnonosat_900200", id=9200002)
    frameworks.import_document(session, [first], now=FIXED_NOW)
    report = frameworks.import_document(session, second, now=LATER)
    assert (report.units_added, report.requirements_withdrawn) == (1, 0)
    collection = frameworks.get_qualification(session, "tutkinnonosat")
    assert [(u.code, u.position) for u in collection.units] == [("tutkinnonosat_900100", 0), ("tutkinnonosat_900200", 1)]
    assert all(r.withdrawn_at is None for u in collection.units for r in u.requirements)


def test_osaamismerkit_code_list_and_api_list_merge_without_withdrawing(session):
    frameworks.import_file(session, shared_file(OSAAMISMERKIT_EXTERNAL), now=FIXED_NOW)
    report = frameworks.import_file(session, shared_file(OSAAMISMERKIT_CODES), now=LATER)
    assert (report.units_added, report.requirements_withdrawn) == (29, 0)
    merkit = frameworks.get_qualification(session, "osaamismerkit")
    assert len(merkit.units) == 32
    assert merkit.format_generation == "osaamismerkit"
    unit = frameworks.get_unit(session, merkit, "osaamismerkit_1000")
    assert unit.names["fi"] == "Oma osaaminen"  # the newer import's name
    assert [r.key for r in unit.requirements] == ["osaamismerkit_1000:t1", "osaamismerkit_1000:t2"]


def test_every_shared_framework_file_imports(session):
    files = sorted(EPERUSTEET.glob("*.json")) if EPERUSTEET.is_dir() else []
    if not files:
        pytest.skip("../shared is absent")
    imported = []
    for path in files:
        try:
            frameworks.import_file(session, path, now=FIXED_NOW)
        except NotFrameworkError:
            continue
        session.commit()
        imported.append(path.name)
    assert len(imported) == 7
    assert {q.source_id for q in session.scalars(select(Qualification))} == {
        "3932281", "1721199", "1718932", "2910079", "tutkinnonosat", "osaamismerkit"}
    assert session.scalar(select(func.count(Requirement.id))) > 200


def test_read_framework_file_reports_bad_json_by_line_and_column(tmp_path: Path):
    broken = tmp_path / "rikki.json"
    broken.write_text('{"id": 1,\n  "tutkinnonOsat": [,]}', encoding="utf-8")
    with pytest.raises(FrameworkFormatError) as caught:
        frameworks.read_framework_file(broken)
    assert caught.value.place == "line 2 column 21"
    latin = tmp_path / "latin.json"
    latin.write_bytes('{"nimi": "ä"}'.encode("latin-1"))
    with pytest.raises(FrameworkFormatError, match="not UTF-8"):
        frameworks.read_framework_file(latin)
    csv = tmp_path / "index.csv"
    csv.write_text("peruste_id,koodiUri\n1,tutkinnonosat_1\n", encoding="utf-8")
    with pytest.raises(NotFrameworkError, match="not a JSON file"):
        frameworks.read_framework_file(csv)


# --- demo data -------------------------------------------------------------------------------------


def test_import_demo_uses_shipped_files_when_shared_is_absent(session, monkeypatch):
    missing = Path("/nonexistent/shared.json")
    monkeypatch.setattr(frameworks, "_DEMO_FILES", (
        (missing, DEMO_DATA / "eperusteet_puuteollisuus_demo.json"),
        (missing, DEMO_DATA / "osaamismerkit_koodit_demo.json"),
    ))
    reports = frameworks.import_demo(session, FIXED_NOW)
    assert [r.status for r in reports] == ["imported", "imported"]
    assert frameworks.alignment_for(session, "ammattitaitovaatimukset_509")["targetCode"] == "ammattitaitovaatimukset_509"
    assert frameworks.alignment_for(session, "osaamismerkit_1005")["targetName"] == "Tekstitaidot"
    again = frameworks.import_demo(session, LATER)
    assert [r.summary() for r in again] == ["no changes", "no changes"]


def test_import_demo_prefers_the_shared_puuteollisuus_file(session):
    shared_file("peruste_3932281_puuteollisuuden-perustutkinto_subset.json")
    frameworks.import_demo(session, FIXED_NOW)
    qualification = frameworks.get_qualification(session, "3932281")
    assert len(qualification.units) == 4  # the shared subset has four units, the shipped file two
    assert len(frameworks.get_qualification(session, "osaamismerkit").units) == 32


# --- look-ups --------------------------------------------------------------------------------------


def test_alignment_for_a_requirement_key(session, imported):
    assert frameworks.alignment_for(session, " ammattitaitovaatimukset_413 ") == {
        "targetName": "Opiskelija suunnittelee puutuotteen valmistuksen ja työvaiheiden järjestyksen.",
        "targetUrl": "https://eperusteet.opintopolku.fi/#/fi/ammatillinen/3932281/tutkinnonosat/3944378",
        "targetCode": "ammattitaitovaatimukset_413",
        "targetFramework": "Puuteollisuuden perustutkinto (OPH-2455-2017): Puutuotevalmistuksessa toimiminen "
                           "(tutkinnonosat_105444)",
        "targetType": "ext:ePerusteet",
    }
    swedish = frameworks.alignment_for(session, "ammattitaitovaatimukset_413", language="sv")
    assert swedish["targetName"].startswith("Den studerande planerar")
    assert swedish["targetFramework"].startswith("Grundexamen inom träindustrin (OPH-2455-2017): Tillverkning av trävaror")


def test_alignment_for_unit_codes_derived_keys_and_osaamismerkit(session, imported):
    unit = frameworks.alignment_for(session, "tutkinnonosat_105438")
    assert unit["targetName"] == "Puupintojen käsitteleminen"
    assert unit["targetFramework"] == "Puuteollisuuden perustutkinto (OPH-2455-2017)"
    assert unit["targetUrl"].endswith("/ammatillinen/3932281/tutkinnonosat/3944372")
    derived = frameworks.alignment_for(session, "tutkinnonosat_900001:k1:2")
    assert derived["targetName"] == "lajitella jätteet ohjeen mukaan"
    merkki = frameworks.alignment_for(session, "osaamismerkit_1002")
    assert merkki == {
        "targetName": "Oma ajankäyttö", "targetUrl": "https://eperusteet.opintopolku.fi/#/fi/osaamismerkki/1002",
        "targetCode": "osaamismerkit_1002", "targetFramework": "Osaamismerkit (Opetushallitus)",
        "targetType": "ext:ePerusteet",
    }
    assert frameworks.alignment_for(session, "ammattitaitovaatimukset_999999") is None
    assert frameworks.alignment_for(session, "") is None


def test_a_lone_unit_links_to_its_api_address(session):
    frameworks.import_file(session, DATA / "tutkinnonosa_html_list.json", now=FIXED_NOW)
    assert frameworks.alignment_for(session, "tutkinnonosat_900100")["targetUrl"] == (
        "https://eperusteet.opintopolku.fi/eperusteet-service/api/external/peruste/tutkinnonosa/tutkinnonosat_900100")


def test_list_qualifications_counts_units(session, imported):
    rows = [(q.source_id, n) for q, n in frameworks.list_qualifications(session)]
    assert rows == [("3932281", 2), ("9000001", 2), ("osaamismerkit", 6)]


# --- search -----------------------------------------------------------------------------------------


def keys(hits) -> list[str]:
    """Return the keys of search hits."""
    return [hit.key for hit in hits]


def test_search_finds_requirement_texts_case_insensitively(session, imported):
    hits = frameworks.search(session, "PUUTUOTTEEN valmistuksen")
    assert keys(hits) == ["ammattitaitovaatimukset_413"]
    assert hits[0].unit.code == "tutkinnonosat_105444"
    assert hits[0].summary("fi")["qualification_name"] == "Puuteollisuuden perustutkinto (OPH-2455-2017)"


def test_search_finds_unit_names_swedish_texts_and_codes(session, imported):
    assert keys(frameworks.search(session, "puupintojen")) == ["tutkinnonosat_105438"]
    assert "ammattitaitovaatimukset_90001" in keys(frameworks.search(session, "städmedel"))
    by_code = frameworks.search(session, "ammattitaitovaatimukset_41")
    assert keys(by_code) == ["ammattitaitovaatimukset_413", "ammattitaitovaatimukset_414", "ammattitaitovaatimukset_415"]
    assert keys(frameworks.search(session, "osaamismerkit_1003")) == ["osaamismerkit_1003"]


def test_search_puts_an_exact_key_first(session, imported):
    hits = frameworks.search(session, "tutkinnonosat_105444")
    assert hits[0].key == "tutkinnonosat_105444"
    assert hits[0].requirement is None


def test_search_treats_like_wildcards_as_text(session, imported):
    assert frameworks.search(session, "%%") == []
    assert frameworks.search(session, "ammattitaitovaatimukset%41") == []
    assert frameworks.search(session, "puut")  # "Puutuotevalmistuksessa …"
    assert frameworks.search(session, "puu_") == []  # "_" is a character, not a wildcard


def test_search_ignores_too_short_queries_and_limits_results(session, imported):
    assert frameworks.search(session, " a ") == []
    assert frameworks.search(session, None) == []
    assert len(frameworks.search(session, "ammattitaitovaatimukset", limit=3)) == 3


def test_search_leaves_withdrawn_requirements_out(session, imported, demo_peruste):
    newer = copy.deepcopy(demo_peruste)
    newer["tutkinnonOsat"][0]["arviointi"]["arvioinninKohdealueet"].pop(0)
    frameworks.import_document(session, newer, now=LATER)
    assert frameworks.search(session, "ammattitaitovaatimukset_413") == []
    assert keys(frameworks.search(session, "ammattitaitovaatimukset_413", include_withdrawn=True)) == [
        "ammattitaitovaatimukset_413"]


def test_search_finds_capitalised_words_with_finnish_letters(session):
    unit = load(DATA / "tutkinnonosa_html_list.json")
    unit["nimi"] = {"fi": "Äänentoiston perusteet"}
    frameworks.import_document(session, unit, now=FIXED_NOW)
    assert keys(frameworks.search(session, "äänentoiston")) == ["tutkinnonosat_900100"]
    assert keys(frameworks.search(session, "ÄÄNENTOISTON")) == ["tutkinnonosat_900100"]
