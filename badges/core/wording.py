"""Find deficit and diagnosis language in badge texts (the passport shows achievements only).

The word lists below are maintained by hand. How to extend them:

* Add a pattern to the list of its language in ``TERMS``, with a suggestion written in that
  language (it is shown to the person writing the text, next to the field).
* Pattern syntax: letters are matched case-insensitively; ``*`` stands for any run of letters or
  digits (also none); a space matches any whitespace. A pattern always covers whole words: it
  must start and end at a word boundary unless it begins or ends with ``*``.
  ``puutte*`` matches "puutteet" and "puutteellinen"; ``*vamma*`` also matches inside the
  Finnish compound "kehitysvamma"; ``ei osaa`` matches that phrase only.
* Finnish builds compounds, so a stem written ``*stem*`` finds it inside longer words. Check
  that the stem is not part of an everyday workshop word first: "puute" is inside
  "puuteollisuus" (wood industry), so only ``puute``, ``*puute`` and ``*puutte*`` are listed.
* A neutral phrase that contains a listed stem goes to ``EXCEPTIONS`` (e.g. Finnish
  "ongelmanratkaisu", problem solving, is a key competence, not a deficit).
* Add a test case in ``tests/library/test_wording.py`` for every new pattern and exception.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

#: Suggestions shown when a term has no more specific one, per language.
GENERIC = {
    "fi": 'Kuvaa, mitä henkilö osaa ("Osaa …"), neutraalisti ja ilman diagnooseja tai puutteita.',
    "sv": 'Beskriv vad personen kan ("Kan …"), neutralt och utan diagnoser eller brister.',
    "en": 'Describe what the person can do ("Can …"), neutrally, without diagnoses or deficits.',
}
_FI_SKILL = 'Kirjoita, mitä henkilö osaa: "Osaa …".'
_SV_SKILL = 'Skriv vad personen kan: "Kan …".'
_EN_SKILL = 'Write what the person can do: "Can …".'
_FI_HEALTH = "Terveystiedot eivät kuulu osaamismerkkiin. Kuvaa vain osaaminen."
_SV_HEALTH = "Hälsouppgifter hör inte till ett kompetensmärke. Beskriv bara kunnandet."
_EN_HEALTH = "Health information does not belong in a badge. Describe the skill only."
_FI_STATUS = "Palvelu-, etuus- tai elämäntilanne ei kuulu osaamismerkkiin. Kuvaa vain osaaminen."
_SV_STATUS = (
    "Tjänst, förmån eller livssituation hör inte till ett kompetensmärke. Beskriv bara kunnandet."
)
_EN_STATUS = (
    "Services, benefits or life situation do not belong in a badge. Describe the skill only."
)

#: Pattern → suggestion, per language. Keep each list sorted by theme, then alphabetically.
TERMS: dict[str, dict[str, str]] = {
    "fi": {
        # what someone cannot do
        "ei osaa": _FI_SKILL,
        "ei pysty*": _FI_SKILL,
        "ei kykene*": _FI_SKILL,
        "ei onnistu*": _FI_SKILL,
        "ei ymmärrä": _FI_SKILL,
        "ei jaksa": _FI_SKILL,
        "epäonnist*": _FI_SKILL,
        "*haaste": _FI_SKILL,
        "*haastee*": _FI_SKILL,
        "heikko*": _FI_SKILL,
        "heikon": _FI_SKILL,
        "heikos*": _FI_SKILL,
        "heikot": _FI_SKILL,
        "*kyvytön": _FI_SKILL,
        "*kyvyttöm*": _FI_SKILL,
        "*ongelm*": _FI_SKILL,
        "puute": _FI_SKILL,
        "*puute": _FI_SKILL,
        "*puutte*": _FI_SKILL,
        "*vaikeu*": _FI_SKILL,
        # health and diagnoses
        "adhd": _FI_HEALTH,
        "autis*": _FI_HEALTH,
        "diagnoo*": _FI_HEALTH,
        "masennu*": _FI_HEALTH,
        "masent*": _FI_HEALTH,
        "mielenterve*": _FI_HEALTH,
        "*päihde*": _FI_HEALTH,
        "*päihte*": _FI_HEALTH,
        "sairas*": _FI_HEALTH,
        "*sairau*": _FI_HEALTH,
        "*sairaud*": _FI_HEALTH,
        "*vamma*": _FI_HEALTH,
        # services, benefits, absences, support needs, life situation
        "erityisen tuen": _FI_STATUS,
        "*kuntoutt*": _FI_STATUS,
        "*kuntoutu*": _FI_STATUS,
        "*poissaol*": _FI_STATUS,
        "rikos*": _FI_STATUS,
        "*rikoll*": _FI_STATUS,
        "toimeentulotu*": _FI_STATUS,
        "tuen tar*": _FI_STATUS,
        "*tuentar*": _FI_STATUS,
        "*tukitar*": _FI_STATUS,
        "*työtön": _FI_STATUS,
        "*työttöm*": _FI_STATUS,
    },
    "sv": {
        "kan inte": _SV_SKILL,
        "klarar inte": _SV_SKILL,
        "saknar": _SV_SKILL,
        "*brist*": _SV_SKILL,
        "misslyck*": _SV_SKILL,
        "oförmåg*": _SV_SKILL,
        "*problem*": _SV_SKILL,
        "svag*": _SV_SKILL,
        "*svårighet*": _SV_SKILL,
        "adhd": _SV_HEALTH,
        "autis*": _SV_HEALTH,
        "depression*": _SV_HEALTH,
        "deprimerad*": _SV_HEALTH,
        "diagnos*": _SV_HEALTH,
        "*funktionshind*": _SV_HEALTH,
        "*funktionsnedsätt*": _SV_HEALTH,
        "handikapp*": _SV_HEALTH,
        "*missbruk*": _SV_HEALTH,
        "psykisk ohälsa": _SV_HEALTH,
        "*rusmedel*": _SV_HEALTH,
        "*sjukdom*": _SV_HEALTH,
        "sjukfrånvar*": _SV_HEALTH,
        "sjukled*": _SV_HEALTH,
        "sjukskriv*": _SV_HEALTH,
        "arbetslös*": _SV_STATUS,
        "behov av stöd": _SV_STATUS,
        "brottsl*": _SV_STATUS,
        "*frånvar*": _SV_STATUS,
        "fängelse*": _SV_STATUS,
        "rehabilit*": _SV_STATUS,
        "*stödbehov*": _SV_STATUS,
    },
    "en": {
        "cannot": _EN_SKILL,
        "can't": _EN_SKILL,
        "deficien*": _EN_SKILL,
        "deficit*": _EN_SKILL,
        "difficult*": _EN_SKILL,
        "fail*": _EN_SKILL,
        "inabilit*": _EN_SKILL,
        "incapab*": _EN_SKILL,
        "lack": _EN_SKILL,
        "lacked": _EN_SKILL,
        "lacking": _EN_SKILL,
        "lacks": _EN_SKILL,
        "problem*": _EN_SKILL,
        "struggl*": _EN_SKILL,
        "unable": _EN_SKILL,
        "weak*": _EN_SKILL,
        "addict*": _EN_HEALTH,
        "adhd": _EN_HEALTH,
        "autis*": _EN_HEALTH,
        "depress*": _EN_HEALTH,
        "diagnos*": _EN_HEALTH,
        "disab*": _EN_HEALTH,
        "disorder*": _EN_HEALTH,
        "handicap*": _EN_HEALTH,
        "illness*": _EN_HEALTH,
        "impairment*": _EN_HEALTH,
        "mental health": _EN_HEALTH,
        "sick*": _EN_HEALTH,
        "substance abuse": _EN_HEALTH,
        "substance misuse": _EN_HEALTH,
        "substance use*": _EN_HEALTH,
        "absen*": _EN_STATUS,
        "criminal*": _EN_STATUS,
        "prison*": _EN_STATUS,
        "rehabilitat*": _EN_STATUS,
        "special needs": _EN_STATUS,
        "support need*": _EN_STATUS,
        "unemploy*": _EN_STATUS,
    },
}

#: Neutral phrases that contain a listed pattern; a finding inside one of these is dropped.
EXCEPTIONS: dict[str, tuple[str, ...]] = {
    "fi": ("ongelmanratkaisu*", "ratkai* ongelm*", "ratkai* käytännön ongelm*"),
    "sv": ("problemlösning*", "lös* problem*", "lös* praktiska problem*"),
    "en": (
        "problem solving",
        "problem-solving",
        "solv* problem*",
        "solv* practical problem*",
        "failsafe*",
        "fail-safe*",
    ),
}


@dataclass(frozen=True, slots=True)
class Finding:
    """A word or phrase in a text that reads as a deficit or a diagnosis."""

    term: str  #: the words as written in the text
    start: int  #: index of the first character in the text
    end: int  #: index just after the last character
    suggestion: str  #: what to write instead, in the text's language


def _compile(pattern: str) -> re.Pattern[str]:
    """Turn one list pattern into a regular expression (see the module docstring)."""
    parts = []
    for word in pattern.split(" "):
        parts.append(r"\w*".join(re.escape(piece) for piece in word.split("*")))
    body = r"\s+".join(parts)
    head = "" if pattern.startswith("*") else r"(?<!\w)"
    tail = "" if pattern.endswith("*") else r"(?!\w)"
    # A leading or trailing * still has to stop at the word's edge, so the finding covers the
    # whole word ("kehitysvamma", not "vamma").
    return re.compile(head + body + tail, re.IGNORECASE)


@cache
def _patterns(language: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    return tuple((_compile(p), s) for p, s in TERMS[language].items())


@cache
def _exceptions(language: str) -> tuple[re.Pattern[str], ...]:
    return tuple(_compile(p) for p in EXCEPTIONS.get(language, ()))


def _languages(language: str | None) -> Iterable[str]:
    return (language,) if language in TERMS else tuple(TERMS)


def check_wording(text: str, language: str | None) -> list[Finding]:
    """Return the deficit or diagnosis words in ``text``, in order, without overlaps.

    ``language`` is ``fi``, ``sv`` or ``en``; any other value checks all three lists.
    """
    if not text:
        return []
    found: list[Finding] = []
    for lang in _languages(language):
        allowed = [m.span() for rx in _exceptions(lang) for m in rx.finditer(text)]
        for rx, suggestion in _patterns(lang):
            for match in rx.finditer(text):
                start, end = _whole_words(text, *match.span())
                if any(a <= start and end <= b for a, b in allowed):
                    continue
                found.append(Finding(text[start:end], start, end, suggestion))
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    result: list[Finding] = []
    for finding in found:
        if result and finding.start < result[-1].end:
            continue  # the longer finding at the same place already covers it
        result.append(finding)
    return result


def _whole_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Widen a match to the words it touches, so a stem inside a compound shows the compound."""
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return start, end
