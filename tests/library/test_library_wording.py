"""The wording check finds deficit and diagnosis language in fi, sv and en, and only that."""

import pytest

from badges.core.wording import EXCEPTIONS, TERMS, check_wording


def terms(text: str, language: str | None) -> list[str]:
    return [f.term for f in check_wording(text, language)]


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("fi", "Hän ei osaa lukea piirustusta.", ["ei osaa"]),
        ("fi", "Puutteet käsityötaidoissa ja heikko keskittyminen.", ["Puutteet", "heikko"]),
        ("fi", "Taitopuutteet korjaantuivat.", ["Taitopuutteet"]),
        ("fi", "Asiakkaalla on diagnoosi ja masennus.", ["diagnoosi", "masennus"]),
        ("fi", "Päihdekuntoutuksen jälkeen", ["Päihdekuntoutuksen"]),
        ("fi", "Kehitysvamma ja mielenterveysongelmat", ["Kehitysvamma", "mielenterveysongelmat"]),
        (
            "fi",
            "Paljon poissaoloja, sairausloma ja kuntouttava työtoiminta.",
            ["poissaoloja", "sairausloma", "kuntouttava"],
        ),
        (
            "fi",
            "Pitkäaikaistyöttömänä ollut, oppimisvaikeuksia.",
            ["Pitkäaikaistyöttömänä", "oppimisvaikeuksia"],
        ),
        ("sv", "Kan inte läsa ritningen och saknar motivation.", ["Kan inte", "saknar"]),
        ("sv", "Har brister och en diagnos, depression.", ["brister", "diagnos", "depression"]),
        ("sv", "Missbruksproblem och hög frånvaro.", ["Missbruksproblem", "frånvaro"]),
        ("sv", "Personen har en funktionsnedsättning.", ["funktionsnedsättning"]),
        ("en", "Fails to arrive on time and lacks focus.", ["Fails", "lacks"]),
        ("en", "Unable to work due to a weakness.", ["Unable", "weakness"]),
        (
            "en",
            "Diagnosis: depression; history of substance abuse.",
            ["Diagnosis", "depression", "substance abuse"],
        ),
        ("en", "Has a disability and frequent absences.", ["disability", "absences"]),
    ],
)
def test_deficit_and_diagnosis_words_are_found(language, text, expected):
    assert terms(text, language) == expected


@pytest.mark.parametrize(
    ("language", "text"),
    [
        # Everyday workshop words that contain a listed stem.
        ("fi", "Osaa toimia puuteollisuuden tuotannossa ja käyttää puutekniikan koneita."),
        ("fi", "Osaa siivota sairaalan käytävät ohjeen mukaan."),
        ("fi", "Oppiminen ja ongelmanratkaisu; osaa ratkaista ongelmia käytännössä."),
        ("fi", "Osaa haastatella asiakasta ystävällisesti."),
        ("sv", "Kan använda problemlösning och lösa praktiska problem."),
        ("sv", "Kan städa sjukhusets korridorer."),
        ("en", "Can apply lacquer evenly and solve practical problems."),
        ("en", "Can use problem solving and problem-solving tools."),
        ("en", "Can lift loads safely."),
        ("fi", ""),
    ],
)
def test_neutral_texts_pass(language, text):
    assert terms(text, language) == []


def test_findings_give_positions_and_a_suggestion_in_the_texts_language():
    text = "Osaa, vaikka hänellä on masennus."
    [finding] = check_wording(text, "fi")
    assert text[finding.start : finding.end] == "masennus"
    assert "osaamis" in finding.suggestion.lower()
    [finding] = check_wording("Can work despite a disability.", "en")
    assert finding.suggestion.startswith("Health information")
    [finding] = check_wording("Har en diagnos.", "sv")
    assert "kunnandet" in finding.suggestion


def test_matching_ignores_case_and_never_overlaps():
    found = check_wording("MASENNUS, Masennuksen ja masentunut", "fi")
    assert [f.term for f in found] == ["MASENNUS", "Masennuksen", "masentunut"]
    spans = [(f.start, f.end) for f in found]
    assert spans == sorted(spans)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_an_unknown_language_checks_every_list():
    assert terms("diagnoosi, diagnos, diagnosis", None) == ["diagnoosi", "diagnos", "diagnosis"]
    assert terms("diagnoosi", "de") == ["diagnoosi"]


def test_the_lists_cover_the_three_languages_and_the_brief():
    assert set(TERMS) == set(EXCEPTIONS) == {"fi", "sv", "en"}
    for stems, language in (
        (
            [
                "ei osaa",
                "puute",
                "heikko",
                "ongelma",
                "diagnoosi",
                "masennus",
                "päihde",
                "sairaus",
                "vamma",
                "poissaolo",
                "kuntoutus",
            ],
            "fi",
        ),
        (
            [
                "fails to",
                "unable",
                "lacks",
                "weakness",
                "diagnosis",
                "depression",
                "substance abuse",
                "disability",
                "absence",
            ],
            "en",
        ),
        (
            [
                "kan inte",
                "saknar",
                "brist",
                "svaghet",
                "diagnos",
                "depression",
                "missbruk",
                "funktionsnedsättning",
                "frånvaro",
            ],
            "sv",
        ),
    ):
        for stem in stems:
            assert check_wording(stem, language), (language, stem)
