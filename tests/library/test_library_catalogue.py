"""Catalogue files: schema and semantic errors with exact lines, the starter catalogue, the CLI."""

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import REPO_ROOT, SHARED
from library_helpers import DATA

from badges import library
from badges.cli import main
from badges.core.artwork import PALETTE
from badges.core.criteria import CatalogueError, check_catalogue_text, parse_catalogue

STARTER = REPO_ROOT / "criteria" / "tyopaja-perustaidot.json"
DEMO = REPO_ROOT / "criteria" / "demo-tyopaja.json"
EPERUSTEET = SHARED / "data" / "eperusteet"

#: Unit codes of the starter catalogue that are not in ../shared/data/eperusteet, each checked
#: by hand in OPH's koodisto code list as mirrored in Opetushallitus/koski
#: (src/main/resources/mockdata/koodisto/koodit/tutkinnonosat.json @ 0181adb7b2d6), with the
#: Finnish name the code has there.
KOODISTO_VERIFIED = {
    "tutkinnonosat_105458": "Asiakaslähtöisten puhtaus- ja kiinteistöpalvelujen tuottaminen",
    "tutkinnonosat_105459": "Kiinteistön yleishoito ja valvonta",
    "tutkinnonosat_105463": "Ylläpitosiivouspalvelut",
    "tutkinnonosat_105464": "Perussiivouspalvelut",
    "tutkinnonosat_105470": "Kodin ruokapalvelujen tuottaminen",
    "tutkinnonosat_105476": "Piha- ja ulkoalueiden hoitaminen",
    "tutkinnonosat_105611": "Elintarviketuotannossa toimiminen",
    "tutkinnonosat_105749": "Inventointi ja saldonhallinta",
    "tutkinnonosat_105764": "Tavaran keräily ja lähetys",
    "tutkinnonosat_105766": "Tavaran vastaanotto ja säilytys",
}


def check(name: str):
    return library.check_file(DATA / name)


def lines(name: str) -> list[str]:
    source = f"tests/library/data/{name}"
    return [p.format(source) for p in check(name).problems]


# --- errors with their places --------------------------------------------------------------


def test_malformed_json_names_line_and_column():
    assert lines("malformed.json") == [
        "tests/library/data/malformed.json:4:3: catalogue: not valid JSON: Expecting ',' delimiter",
    ]
    assert check("malformed.json").catalogue is None


def test_missing_finnish_name_points_at_the_name_of_that_definition():
    assert lines("missing_fi_name.json") == [
        "tests/library/data/missing_fi_name.json:16:7: achievements[1].name.fi: required",
    ]


def test_duplicate_ids_point_at_the_second_use():
    assert lines("duplicate_ids.json") == [
        "tests/library/data/duplicate_ids.json:15:7: achievements[1].id: "
        "the id 'lumityot' is already used by achievements[0]",
    ]


def test_alignment_urls_must_be_https():
    assert lines("bad_url.json") == [
        "tests/library/data/bad_url.json:17:11: achievements[0].alignments[0].targetUrl: must be an https:// address",
        "tests/library/data/bad_url.json:23:11: achievements[0].alignments[1].targetUrl: must be an https:// address",
    ]


def test_unknown_language_palette_validity_and_warnings():
    result = check("warnings.json")
    assert [p.format("w.json") for p in result.errors] == [
        "w.json:4:35: name.de: unknown language 'de' (use fi, sv, en)",
        "w.json:13:7: achievements[0].colour: must be one of the palette colours: "
        + ", ".join(PALETTE),
        "w.json:14:7: achievements[0].valid_days: must be at least 1",
    ]
    warnings = [p.format("w.json") for p in result.warnings]
    # The column of a wording warning is the word itself.
    assert warnings[0].startswith(
        'w.json:10:57: warning: achievements[0].description.fi: wording: "masennus"'
    )
    assert warnings[1:] == [
        'w.json:11:20: warning: achievements[0].criteria.fi: write the criteria as an observable skill starting with "Osaa …"',
        'w.json:11:68: warning: achievements[0].criteria.en: write the criteria as an observable skill starting with "Can …"',
    ]


def test_repeated_keys_are_errors():
    text = '{\n  "id": "a",\n  "id": "b"\n}'
    problems = [
        p.format("x") for p in check_catalogue_text(text, schema=library.load_schema()).errors
    ]
    assert "x:3:3: id: the key 'id' appears twice in the same object" in problems


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"\xff\xfe{}", "the file is not UTF-8 text"),
        ('{"id": NaN}', "not valid JSON: NaN is not allowed in JSON"),
        ("", "not valid JSON: Expecting value"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ],
)
def test_unreadable_text_is_one_clear_error(text, message):
    result = check_catalogue_text(text, schema=library.load_schema())
    assert result.catalogue is None
    assert len(result.errors) == 1
    assert result.errors[0].message.startswith(message)


def test_a_byte_order_mark_is_accepted():
    result = check_catalogue_text(b"\xef\xbb\xbf" + DEMO.read_bytes(), schema=library.load_schema())
    assert result.catalogue is not None
    assert not result.problems


def test_wrong_types_say_what_is_expected():
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    data["achievements"][0]["valid_days"] = "365"
    data["achievements"][1]["alignments"] = {"targetCode": "x"}
    result = check_catalogue_text(json.dumps(data, indent=2), schema=library.load_schema())
    messages = {p.path: p.message for p in result.errors}
    assert messages["achievements[0].valid_days"] == "must be a whole number"
    assert messages["achievements[1].alignments"] == "must be a list [ … ]"


def test_parse_catalogue_keeps_its_api_and_raises_the_first_error():
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    catalogue = parse_catalogue(data)
    assert catalogue.id == "demo-tyopaja"
    assert catalogue.definitions[0].name["fi"]
    assert parse_catalogue(data, schema=library.load_schema()) == catalogue
    del data["achievements"][2]["criteria"]["fi"]
    with pytest.raises(CatalogueError, match=r"achievements\[2\]\.criteria"):
        parse_catalogue(data)
    with pytest.raises(CatalogueError, match=r"^achievements\[2\]\.criteria\.fi: required$"):
        parse_catalogue(data, schema=library.load_schema())


# --- the catalogues we ship ------------------------------------------------------------------


@pytest.mark.parametrize("path", [STARTER, DEMO], ids=lambda p: p.name)
def test_shipped_catalogues_have_no_errors_and_no_warnings(path: Path):
    result = library.check_file(path)
    assert result.problems == ()
    assert result.catalogue is not None


def test_starter_catalogue_is_complete_in_three_languages():
    catalogue = library.check_file(STARTER).catalogue
    assert 18 <= len(catalogue.definitions) <= 24
    for definition in catalogue.definitions:
        for texts in (
            definition.name,
            definition.description,
            definition.criteria,
            definition.image_alt,
            definition.evidence_guidance,
        ):
            assert set(texts) == {"fi", "sv", "en"}, definition.id
        assert definition.criteria["fi"].startswith("Osaa ")
        assert definition.criteria["sv"].startswith("Kan ")
        assert definition.criteria["en"].startswith("Can ")
        assert definition.plain_fi
        assert definition.colour in PALETTE
        assert definition.alignments, definition.id
    themes = {d.id.split("-", 1)[0] for d in catalogue.definitions}
    assert themes == {"puutyo", "viher", "siivous", "kiinteisto", "keittio", "varasto", "perus"}


def _shared_codes() -> dict[str, str]:
    """Return {code: Finnish name or requirement text} for every code in ../shared/data/eperusteet."""
    names: dict[str, str] = {}
    with (EPERUSTEET / "tutkinnon_osat_index.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            names[row["koodiUri"]] = row["nimi_fi"].strip()
    for path in EPERUSTEET.glob("peruste_*.json"):
        peruste = json.loads(path.read_text(encoding="utf-8"))
        for unit in peruste.get("tutkinnonOsat", []):
            names[unit["koodiUri"]] = unit["nimi"]["fi"].strip()
            for area in (unit.get("arviointi") or {}).get("arvioinninKohdealueet", []):
                code = (area.get("koodi") or {}).get("uri")
                if code:
                    names[code] = area["otsikko"]["fi"].strip()
    for element in json.loads(
        (EPERUSTEET / "koodisto_osaamismerkit_koodit.json").read_text(encoding="utf-8")
    ):
        names[element["koodiUri"]] = next(
            m["nimi"] for m in element["metadata"] if m["kieli"] == "FI"
        )
    return names


def test_every_alignment_code_of_the_starter_catalogue_is_real():
    if not EPERUSTEET.is_dir():
        pytest.skip("../shared/data/eperusteet is not available here")
    shared = _shared_codes()
    catalogue = library.check_file(STARTER).catalogue
    used = set()
    for definition in catalogue.definitions:
        for alignment in definition.alignments:
            code, name = alignment["targetCode"], alignment["targetName"]
            used.add(code)
            expected = shared.get(code, KOODISTO_VERIFIED.get(code))
            assert expected is not None, f"{definition.id}: {code} is not a verified code"
            assert name == expected, f"{definition.id}: {code} is called {expected!r}, not {name!r}"
    assert set(KOODISTO_VERIFIED) <= used  # the list documents only what is used


# --- the command line --------------------------------------------------------------------------


def test_cli_validate_prints_every_problem_and_fails():
    result = CliRunner().invoke(
        main, ["criteria", "validate", str(DATA / "bad_url.json"), str(STARTER)]
    )
    assert result.exit_code == 1
    assert (
        f"{DATA / 'bad_url.json'}:17:11: achievements[0].alignments[0].targetUrl: must be an https:// address"
        in result.output
    )
    assert f"{STARTER}: 0 error(s), 0 warning(s); 24 badge definitions" in result.output


def test_cli_validate_passes_good_files_and_strict_fails_on_warnings(tmp_path):
    assert (
        CliRunner().invoke(main, ["criteria", "validate", str(STARTER), str(DEMO)]).exit_code == 0
    )
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    data["achievements"][0]["criteria"]["fi"] = "Nimeää viisi puulajia."
    path = tmp_path / "warn.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    relaxed = CliRunner().invoke(main, ["criteria", "validate", str(path)])
    assert relaxed.exit_code == 0
    assert "warning: achievements[0].criteria.fi" in relaxed.output
    assert CliRunner().invoke(main, ["criteria", "validate", "--strict", str(path)]).exit_code == 1


def test_cli_list_shows_definitions_and_codes():
    result = CliRunner().invoke(main, ["criteria", "list", str(STARTER), "--language", "en"])
    assert result.exit_code == 0
    assert "tyopaja-perustaidot 2026.1: Workshop basics" in result.output
    assert "puutyo-turvallisuus: Working safely in the wood shop (valid 365 days)" in result.output
    assert "ammattitaitovaatimukset_416" in result.output
    broken = CliRunner().invoke(main, ["criteria", "list", str(DATA / "malformed.json")])
    assert broken.exit_code == 1
    assert "malformed.json:4:3" in broken.output


def test_catalogues_are_cached_until_the_file_changes(tmp_path):
    path = tmp_path / "oma.json"
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    data["id"] = "oma"
    path.write_text(json.dumps(data), encoding="utf-8")
    first = library.list_catalogues(tmp_path)
    assert [c.id for c in first] == ["oma"]
    assert library.list_catalogues(tmp_path)[0] is first[0]  # served from the cache
    data["version"] = "2026.2"
    path.write_text(json.dumps(data) + "\n", encoding="utf-8")
    assert library.list_catalogues(tmp_path)[0].version == "2026.2"
    path.write_text("{", encoding="utf-8")
    assert library.list_catalogues(tmp_path) == []
    assert library.catalogue_files(tmp_path)[0].check.errors
