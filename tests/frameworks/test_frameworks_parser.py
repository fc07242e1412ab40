"""The pure ePerusteet parser: every format generation, sanitising, bad shapes (no app needed)."""

import copy
import json
from typing import Any

import pytest
from frameworks_helpers import (
    DATA,
    DEMO_DATA,
    EPERUSTEET,
    LIIKETALOUS,
    OSAAMISMERKIT_CODES,
    OSAAMISMERKIT_EXTERNAL,
    PUUTARHA,
    PUUTEOLLISUUS,
    SINGLE_UNIT,
    TELMA,
    load,
    shared_file,
)

from badges.core.eperusteet import (
    FrameworkFormatError,
    NotFrameworkError,
    ParsedFramework,
    clean_lines,
    clean_text,
    html_list_items,
    level_sort_key,
    parse_framework,
    pick_text,
)


def parse_shared(name: str) -> ParsedFramework:
    """Parse one file of ../shared (skips when absent)."""
    return parse_framework(load(shared_file(name)))


def unit_of(framework: ParsedFramework, code: str):
    """Return the parsed unit ``code``."""
    return next(u for u in framework.units if u.code == code)


def requirement_of(unit, key: str):
    """Return the parsed requirement ``key`` of ``unit``."""
    return next(r for r in unit.requirements if r.key == key)


# --- the three generations, from the real files --------------------------------------------------


def test_reform_2018_peruste_has_coded_requirements_with_criteria_per_level():
    framework = parse_shared(PUUTEOLLISUUS)
    assert (framework.source, framework.source_id, framework.diaarinumero) == ("eperusteet", "3932281", "OPH-2455-2017")
    assert framework.kind == "koulutustyyppi_1"
    assert framework.format_generation == "2018"
    assert framework.names["fi"] == "Puuteollisuuden perustutkinto"
    assert framework.names["en"] == "Vocational Qualification in the Wood Industry"
    assert framework.complete
    assert framework.shape == "peruste"
    assert {u.code for u in framework.units} == {
        "tutkinnonosat_105444", "tutkinnonosat_105428", "tutkinnonosat_105438", "tutkinnonosat_105452"}
    unit = unit_of(framework, "tutkinnonosat_105444")
    assert (unit.source_id, unit.points) == ("3944378", 45)
    assert unit.names == {"fi": "Puutuotevalmistuksessa toimiminen", "sv": "Tillverkning av trävaror"}
    assert [r.key for r in unit.requirements] == [f"ammattitaitovaatimukset_{n}" for n in range(413, 419)]
    first = requirement_of(unit, "ammattitaitovaatimukset_413")
    assert first.texts == {
        "fi": "Opiskelija suunnittelee puutuotteiden valmistuksen ja työvaiheiden keskinäisen järjestyksen.",
        "sv": "Den studerande planerar tillverkning av trävaror och arbetsmomentens ordningsföljd.",
    }
    # Scale 3 (T1, T2, H3, H4, K5): criteria are written for T1, H3 and K5 only; empty levels are left out.
    assert list(first.criteria) == ["T1", "H3", "K5"]
    assert len(first.criteria["T1"]["fi"]) == len(first.criteria["T1"]["sv"]) == 4
    assert "tulkitsee piirustuksista puutuotteiden valmistuksessa tarvittavat mitat ja materiaalit" in first.criteria["T1"]["fi"]
    assert first.criteria["K5"]["fi"][0] == "käyttää luontevasti piirustuksia ja työohjeita puutuotteiden valmistuksen suunnittelussa"
    assert [r.key for r in unit_of(framework, "tutkinnonosat_105438").requirements][:3] == [
        "ammattitaitovaatimukset_509", "ammattitaitovaatimukset_510", "ammattitaitovaatimukset_511"]


def test_2015_peruste_makes_each_assessment_target_a_requirement_with_a_derived_key():
    framework = parse_shared(PUUTARHA)
    assert (framework.source_id, framework.diaarinumero, framework.format_generation) == ("1721199", "75/011/2014", "2015")
    unit = unit_of(framework, "tutkinnonosat_100754")
    assert (unit.points, unit.names["fi"]) == (25, "Työskentely puutarha-alalla")
    keys = [r.key for r in unit.requirements]
    assert keys[:3] == ["tutkinnonosat_100754:k1:1", "tutkinnonosat_100754:k1:2", "tutkinnonosat_100754:k2:1"]
    assert len(keys) == 11
    assert keys[-1] == "tutkinnonosat_100754:k4:2"
    first = unit.requirements[0]
    assert first.texts["fi"] == "Oman työn suunnitteleminen ja töiden tekeminen puutarhaalalla"
    assert first.texts["sv"] == "Planering av det egna arbetet samt arbete inom trädgårdsnäringen"
    # Scale 2: osaamistaso 2/3/4 = T1/H2/K3.
    assert list(first.criteria) == ["T1", "H2", "K3"]
    assert "suunnittelee itsenäisesti vastuullaan olevia tehtäviä" in first.criteria["K3"]["fi"]
    assert "suunnittelee omaa työtään tutuissa työtilanteissa, tarvitsee ohjausta uusissa työtilanteissa" in first.criteria["T1"]["fi"]
    assert "suunnittelee oman työnsä ja vastaa omasta työosuudestaan" in first.criteria["H2"]["fi"]
    assert requirement_of(unit, "tutkinnonosat_100754:k3:2").texts["fi"] == \
        "Puutarhakasvien tunnistaminen ja nimeäminen tieteellisin nimin"


def test_2015_liiketalous_reads_both_units():
    framework = parse_shared(LIIKETALOUS)
    assert (framework.source_id, framework.diaarinumero, framework.format_generation) == ("1718932", "59/011/2014", "2015")
    service = unit_of(framework, "tutkinnonosat_100359")
    assert (service.names["fi"], service.points, len(service.requirements)) == ("Asiakaspalvelu", 30, 21)
    assert unit_of(framework, "tutkinnonosat_100360").names["sv"]
    assert all(list(r.criteria) == ["T1", "H2", "K3"] for r in service.requirements)


def test_2019_structure_uses_requirement_codes_and_the_generic_scale():
    framework = parse_framework(load(DATA / "peruste_2019.json"))
    assert (framework.source_id, framework.format_generation, framework.diaarinumero) == ("9000001", "2019", "OPH-0000-2019")
    # Units follow the order of the peruste structure (jarjestys), not the order of the list.
    assert [u.code for u in framework.units] == ["tutkinnonosat_900001", "tutkinnonosat_900002"]
    unit = framework.units[0]
    assert unit.names == {"fi": "Kiinteistön siivous", "sv": "Fastighetsstädning", "en": "Property cleaning"}
    assert unit.points == 15
    assert [r.key for r in unit.requirements] == [
        "ammattitaitovaatimukset_90001", "ammattitaitovaatimukset_90002", "tutkinnonosat_900001:k1:2",
        "ammattitaitovaatimukset_90003"]
    assert unit.requirements[0].texts == {"fi": "valita siivousaineet ja -välineet", "sv": "välja städmedel och redskap"}
    assert requirement_of(unit, "ammattitaitovaatimukset_90003").texts["fi"] == "siivota lattiat & pinnat"
    criteria = unit.requirements[0].criteria
    assert list(criteria) == ["T1", "H3", "K5"]
    assert criteria["H3"]["fi"] == ["toimii itsenäisesti tutuissa tilanteissa"]  # <b> removed
    # The structure wins over the HTML rendering newer API answers also carry.
    second = framework.units[1]
    assert [(r.key, r.texts["fi"], r.criteria) for r in second.requirements] == [
        ("ammattitaitovaatimukset_90010", "kastella kasvit oikein", {})]


def test_telma_units_read_their_objectives_and_use_the_maximum_points():
    framework = parse_shared(TELMA)
    assert (framework.kind, framework.diaarinumero, framework.format_generation) == ("koulutustyyppi_5", "OPH-2659-2017", "2018")
    assert [(u.code, u.points) for u in framework.units] == [
        ("tutkinnonosat_400005", 25), ("tutkinnonosat_400006", 15), ("tutkinnonosat_400007", 20)]
    unit = framework.units[0]
    assert len(unit.requirements) == 31
    first = unit.requirements[0]
    assert first.key == "tutkinnonosat_400005:t1:1"
    assert first.texts["fi"].startswith("omaksuu liikunnan osaksi terveellisiä ja aktiivisia elämäntapojaan")
    assert first.criteria == {}


def test_single_unit_endpoint_shape_goes_to_the_collection_of_single_units():
    framework = parse_shared(SINGLE_UNIT)
    assert (framework.source, framework.source_id, framework.shape, framework.complete) == (
        "eperusteet", "tutkinnonosat", "tutkinnonosa", False)
    (unit,) = framework.units
    assert (unit.code, unit.source_id, unit.names["fi"]) == (
        "tutkinnonosat_106003", "3314254", "Hautausmaiden viheralueista huolehtiminen")
    assert len(unit.requirements) == 12
    plants = requirement_of(unit, "tutkinnonosat_106003:k3:1")
    assert plants.texts["fi"] == "Hautausmaan kasvillisuuden tunnistaminen"
    assert plants.criteria["T1"]["fi"] == ["tunnistaa yleisimmät hautausmaan kasvit"]
    assert list(plants.criteria) == ["T1", "H3", "K5"]


def test_osaamismerkit_code_list_gives_one_unit_per_code_without_requirements():
    framework = parse_shared(OSAAMISMERKIT_CODES)
    assert (framework.source, framework.source_id, framework.format_generation) == (
        "osaamismerkit", "osaamismerkit", "osaamismerkit")
    assert [u.code for u in framework.units] == [f"osaamismerkit_{n}" for n in range(1000, 1032)]
    assert all(not u.requirements and not u.has_requirements for u in framework.units)
    assert framework.units[0].names == {"fi": "Oma osaaminen", "sv": "Eget kunnande"}
    assert unit_of(framework, "osaamismerkit_1008").names["fi"] == "Peruslaskutoimitukset"


def test_osaamismerkit_api_shape_gives_objectives_and_pass_criteria():
    framework = parse_shared(OSAAMISMERKIT_EXTERNAL)
    assert framework.complete
    assert framework.shape == "osaamismerkit"
    unit = unit_of(framework, "osaamismerkit_1000")
    assert unit.source_id == "9188020"
    assert unit.names == {"fi": "Digitaaliset toimintaympäristöt"}  # "sv": "-" is a placeholder
    assert [r.key for r in unit.requirements] == ["osaamismerkit_1000:t1", "osaamismerkit_1000:t2"]
    assert unit.requirements[0].texts == {
        "fi": "osaa tunnistaa digitaalisia toimintaympäristöjä ja niiden keskeisiä käyttötarkoituksia"}
    assert unit.requirements[0].criteria["S"]["fi"][1] == "käyttää laitteiden perustoimintoja itsenäisesti"


@pytest.mark.parametrize(("name", "reason"), [
    ("koodisto_arviointiasteikkoammatillinen15_koodit.json", "assessment scale"),
    ("koodisto_arviointiasteikkoammatillinent1k3_koodit.json", "assessment scale"),
    ("koodisto_arviointiasteikkoammatillinenhyvaksyttyhylatty_koodit.json", "assessment scale"),
    ("koodisto_codeelement_tutkinnonosat_100031.json", "names only"),
    ("koodisto_tutkinnonosat_koodisto.json", "koodisto metadata"),
])
def test_scales_and_koodisto_metadata_are_reported_as_not_framework_data(name, reason):
    with pytest.raises(NotFrameworkError, match=reason):
        parse_framework(load(shared_file(name)))


def test_every_shared_json_file_is_framework_data_or_clearly_not():
    files = sorted(EPERUSTEET.glob("*.json")) if EPERUSTEET.is_dir() else []
    if not files:
        pytest.skip("../shared is absent")
    parsed = 0
    for path in files:
        try:
            framework = parse_framework(load(path))
        except NotFrameworkError:
            continue  # the reasons are checked one by one above
        parsed += 1
        assert framework.units, path.name
        for unit in framework.units:
            assert unit.names.get("fi"), (path.name, unit.code)
            keys = [r.key for r in unit.requirements]
            assert len(keys) == len(set(keys)), (path.name, unit.code)
            for requirement in unit.requirements:
                for text in requirement.texts.values():
                    assert "<" not in text, (path.name, requirement.key)
                    assert "&amp;" not in text, (path.name, requirement.key)
    assert parsed == 7


def test_shipped_demo_data_is_reform_2018_puuteollisuus():
    framework = parse_framework(load(DEMO_DATA / "eperusteet_puuteollisuus_demo.json"))
    assert (framework.source_id, framework.format_generation) == ("3932281", "2018")
    assert {u.code: [r.key for r in u.requirements] for u in framework.units} == {
        "tutkinnonosat_105444": [f"ammattitaitovaatimukset_{n}" for n in (413, 414, 415)],
        "tutkinnonosat_105438": [f"ammattitaitovaatimukset_{n}" for n in (509, 510, 511)],
    }
    codes = parse_framework(load(DEMO_DATA / "osaamismerkit_koodit_demo.json"))
    assert [u.code for u in codes.units] == [f"osaamismerkit_{n}" for n in range(1000, 1006)]


# --- sanitising ---------------------------------------------------------------------------------


def test_html_list_becomes_one_requirement_per_item_with_tags_and_scripts_gone():
    framework = parse_framework(load(DATA / "tutkinnonosa_html_list.json"))  # the object, not a list of one
    (unit,) = framework.units
    assert unit.names["fi"] == "Työskentely & turvallisuus"
    assert [(r.key, r.texts["fi"]) for r in unit.requirements] == [
        ("tutkinnonosat_900100:a1", "käyttää suojaimia oikein"),
        ("tutkinnonosat_900100:a2", "noudattaa ohjeita\ntyöturvallisuuskortin valmiudet\nEA1-taidot"),
        ("tutkinnonosat_900100:a3", "toimia ryhmässä <hyvin>."),
    ]
    assert unit.requirements[2].texts["sv"] == "arbeta i grupp."


def test_clean_text_strips_tags_decodes_entities_and_drops_script_content():
    assert clean_text("<p>Osaa <b>käyttää</b> &amp; huoltaa&nbsp;koneita</p>") == "Osaa käyttää & huoltaa koneita"
    assert clean_text('<a href="javascript:alert(1)" onclick="x()">linkki</a><script>alert("x")</script>') == "linkki"
    assert clean_text("<style>p { color: red }</style>teksti<!-- kommentti -->") == "teksti"
    assert clean_text("a &lt;b&gt; c") == "a <b> c"  # an escaped bracket is text, not a tag
    assert clean_text("  monta\n\t  välilyöntiä  ") == "monta välilyöntiä"


def test_clean_lines_keeps_list_items_and_paragraphs_apart():
    assert clean_lines("<p>Opiskelija osaa</p><ul><li>a</li><li>b<br>c</li></ul><p> </p>") == [
        "Opiskelija osaa", "a", "b", "c"]


def test_html_list_items_nests_sub_items_under_their_parent():
    items = html_list_items("<ul><li>yksi<ul><li>alakohta</li></ul></li><li>kaksi</li></ul><p>loppu</p>")
    assert items == ["yksi\nalakohta", "kaksi"]


def test_pick_text_falls_back_to_finnish_then_any_language():
    assert pick_text({"fi": "suomeksi", "sv": "på svenska"}, "sv") == ("på svenska", "sv")
    assert pick_text({"fi": "suomeksi"}, "en") == ("suomeksi", "fi")
    assert pick_text({"sv": "bara svenska"}, "en") == ("bara svenska", "sv")
    assert pick_text({}, "fi") == ("", "fi")


def test_levels_sort_by_their_number():
    assert sorted(["K5", "T1", "H3", "T2", "H4"], key=level_sort_key) == ["T1", "T2", "H3", "H4", "K5"]
    assert sorted(["K3", "S", "H2", "T1"], key=level_sort_key) == ["S", "T1", "H2", "K3"]


# --- bad shapes ------------------------------------------------------------------------------------


def minimal_peruste(**unit_fields: Any) -> dict[str, Any]:
    """Return a one-unit reform-2018 peruste with ``unit_fields`` merged into the unit."""
    unit = {
        "id": 1, "koodiUri": "tutkinnonosat_1", "nimi": {"fi": "Osa"}, "laajuus": 5,
        "arviointi": {"arvioinninKohdealueet": [{
            "otsikko": {"fi": "Opiskelija tekee."}, "koodi": {"uri": "ammattitaitovaatimukset_1"},
            "arvioinninKohteet": [{"osaamistasonKriteerit": [{"_osaamistaso": "5", "kriteerit": [{"fi": "tekee"}]}]}],
        }]},
    }
    unit.update(unit_fields)
    return {"id": 7, "nimi": {"fi": "Peruste"}, "tutkinnonOsat": [unit]}


@pytest.mark.parametrize(("document", "place"), [
    ({"tutkinnonOsat": []}, "id"),
    (minimal_peruste(nimi=5), "tutkinnonOsat[0].nimi"),
    (minimal_peruste(nimi={"fi": ["lista"]}), "tutkinnonOsat[0].nimi.fi"),
    (minimal_peruste(koodiUri="ei koodi"), "tutkinnonOsat[0].koodiUri"),
    (minimal_peruste(laajuus="paljon"), "tutkinnonOsat[0].laajuus"),
    (minimal_peruste(arviointi={"arvioinninKohdealueet": {"a": 1}}), "tutkinnonOsat[0].arviointi.arvioinninKohdealueet"),
    ({"id": 7, "tutkinnonOsat": "ei lista"}, "tutkinnonOsat"),
    ({"id": {"x": 1}, "tutkinnonOsat": []}, "id"),
])
def test_bad_shapes_name_the_place(document, place):
    with pytest.raises(FrameworkFormatError) as caught:
        parse_framework(document)
    assert caught.value.place == place
    assert place in str(caught.value)


def test_criteria_that_are_not_a_list_name_their_place():
    document = minimal_peruste()
    target = document["tutkinnonOsat"][0]["arviointi"]["arvioinninKohdealueet"][0]["arvioinninKohteet"][0]
    target["osaamistasonKriteerit"][0]["kriteerit"] = "teksti"
    with pytest.raises(FrameworkFormatError, match=r"arvioinninKohteet\[0\]\.osaamistasonKriteerit\[0\]\.kriteerit"):
        parse_framework(document)


def test_units_without_code_and_repeated_keys_are_skipped_with_a_warning():
    document = minimal_peruste()
    unit = document["tutkinnonOsat"][0]
    unit["arviointi"]["arvioinninKohdealueet"].append(copy.deepcopy(unit["arviointi"]["arvioinninKohdealueet"][0]))
    document["tutkinnonOsat"].append({"id": 2, "nimi": {"fi": "Koodeton"}, "arviointi": None})
    framework = parse_framework(document)
    assert [u.code for u in framework.units] == ["tutkinnonosat_1"]
    assert [r.key for r in framework.units[0].requirements] == ["ammattitaitovaatimukset_1"]
    assert any("appears twice" in w for w in framework.warnings)
    assert any("Koodeton" in w and "no code" in w for w in framework.warnings)


def test_unpublished_osaamismerkki_is_skipped():
    badge = {"koodiUri": "osaamismerkit_1000", "nimi": {"fi": "Merkki"}, "tila": "LAADINTA",
             "osaamistavoitteet": [], "arviointikriteerit": []}
    framework = parse_framework([badge, {**badge, "koodiUri": "osaamismerkit_1001", "tila": "JULKAISTU"}])
    assert [u.code for u in framework.units] == ["osaamismerkit_1001"]
    assert "not published" in framework.warnings[0]


@pytest.mark.parametrize("document", [[], [1, 2], "teksti", 42, {"data": [], "sivu": 0}, {"foo": 1}, [{"foo": 1}]])
def test_other_json_is_not_framework_data(document):
    with pytest.raises(NotFrameworkError):
        parse_framework(document)


def _paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Return the path of every value inside ``node``."""
    found = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*path, index))
    return found


@pytest.mark.parametrize("source", ["demo", "2019"])
def test_any_value_of_the_wrong_type_gives_a_clear_error_never_a_crash(source):
    original = load(DEMO_DATA / "eperusteet_puuteollisuus_demo.json") if source == "demo" else load(DATA / "peruste_2019.json")
    replacements = [None, 42, "x", [], {}, True, [1], {"fi": 1}]
    for n, path in enumerate(_paths(original)):
        document = copy.deepcopy(original)
        parent = document
        for step in path[:-1]:
            parent = parent[step]
        parent[path[-1]] = replacements[n % len(replacements)]
        try:
            result = parse_framework(document)
        except (FrameworkFormatError, NotFrameworkError) as error:
            message = str(error)
        else:
            message = "parsed"
            assert isinstance(result, ParsedFramework)
            json.dumps([r.criteria for u in result.units for r in u.requirements])  # stays JSON-storable
        assert message, path
