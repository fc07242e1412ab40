"""Parse ePerusteet and OPH osaamismerkit JSON into framework dataclasses (dict in, dataclasses out).

Shapes understood (see shared/notes/domain.md):

* a whole peruste (``GET /api/external/peruste/{id}``) in any of the three format generations:
  2015-era generic assessment areas without codes (each *arvioinnin kohde* is a requirement),
  reform 2018 (each *arvioinnin kohdealue* is a requirement coded ``ammattitaitovaatimukset_NNN``),
  and the 2019+ ``ammattitaitovaatimukset2019`` structure (coded requirement lines, criteria from the
  unit's generic assessment scale); TELMA/VALMA units (``valmaTelmaSisalto``) too;
* one unit (``GET /api/external/peruste/tutkinnonosa/{koodiUri}``: a list of one, or the object);
* the OPH koodisto code list ``osaamismerkit`` (names only) and the ePerusteet
  ``GET /api/external/osaamismerkit`` list (objectives and assessment criteria).

Nothing here reads files or the network. Texts are sanitised to plain text with ``nh3``.
"""

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import nh3

from badges.core.errors import BadgesError

LANGUAGES = ("fi", "sv", "en")
#: ``_osaamistaso`` ids of ePerusteet (DB migration V0_57): scale 1 pass/fail, scale 2 T1/H2/K3,
#: scale 3 T1/T2/H3/H4/K5.
OSAAMISTASO_LABELS = {
    "1": "S", "2": "T1", "3": "H2", "4": "K3",
    "5": "T1", "6": "T2", "7": "H3", "8": "H4", "9": "K5",
}
#: ``source_id`` of the collection that holds units imported one by one (no peruste around them).
SINGLE_UNITS_ID = "tutkinnonosat"
OSAAMISMERKIT_ID = "osaamismerkit"
SINGLE_UNITS_NAMES = {
    "fi": "Yksittäiset tutkinnon osat", "sv": "Enskilda examensdelar", "en": "Individual qualification units",
}
OSAAMISMERKIT_NAMES = {
    "fi": "Osaamismerkit (Opetushallitus)",
    "sv": "Kompetensmärken (Utbildningsstyrelsen)",
    "en": "Competence badges (Finnish National Agency for Education)",
}
#: Preferred order when a peruste gives several ways of completing it.
_SUORITUSTAPA_ORDER = ("reformi", "ops", "naytto")
_CODE_RE = re.compile(r"^[a-z0-9]+_[A-Za-z0-9.-]+$")
_ID_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
_MAX_KEY = 128
_MAX_CODE = 64


class FrameworkFormatError(BadgesError):
    """Framework data has the wrong shape at a named place (a JSON path)."""

    code = "framework_format"

    def __init__(self, place: str, detail: str) -> None:
        self.place = place or "(top level)"
        self.detail = detail
        super().__init__(f"at {self.place}: {detail}")


class NotFrameworkError(BadgesError):
    """The document is valid JSON but not framework data (a scale, koodisto metadata, …)."""

    code = "not_framework"


@dataclass(frozen=True, slots=True)
class ParsedRequirement:
    """One requirement line: a stable key, texts by language and criteria by level label."""

    key: str
    texts: dict[str, str]
    #: ``{"T1": {"fi": [...], "sv": [...]}, …}`` in level order; empty levels left out.
    criteria: dict[str, dict[str, list[str]]]
    position: int


@dataclass(frozen=True, slots=True)
class ParsedUnit:
    """One unit (tutkinnon osa) or one osaamismerkki."""

    code: str
    source_id: str | None
    names: dict[str, str]
    points: int | None
    position: int
    requirements: tuple[ParsedRequirement, ...] = ()
    #: False when the document lists the unit without its requirements (a code list):
    #: the importer then leaves the unit's stored requirements alone.
    has_requirements: bool = True


@dataclass(frozen=True, slots=True)
class ParsedFramework:
    """A qualification (or the osaamismerkit set) with its units, as read from one document."""

    source: str
    source_id: str
    names: dict[str, str]
    diaarinumero: str | None
    kind: str | None
    format_generation: str | None
    units: tuple[ParsedUnit, ...]
    #: True when the document lists every unit of the qualification, so that a unit missing from
    #: it is gone; False for one unit or a code list (other stored units are left alone).
    complete: bool
    #: What the document was: ``peruste``, ``tutkinnonosa``, ``osaamismerkit-koodisto`` or ``osaamismerkit``.
    shape: str
    warnings: tuple[str, ...] = field(default=())


# --- sanitising ---------------------------------------------------------------------------------

_BLOCK_TAGS = {"p", "br", "li", "ul", "ol", "dl", "dt", "dd", "div", "tr", "table", "blockquote",
               "h1", "h2", "h3", "h4", "h5", "h6"}
# nh3 re-serialises the tags it keeps, without attributes, so this pattern sees every one of them.
_BLOCK_TAG_RE = re.compile(r"</?(?:{})\s*/?>".format("|".join(sorted(_BLOCK_TAGS))))


def _safe_html(text: str) -> str:
    # Script and style elements go with their content (nh3's clean_content_tags default).
    return nh3.clean(text, tags=_BLOCK_TAGS, attributes={}, strip_comments=True)


def clean_lines(text: str) -> list[str]:
    """Return the plain-text lines of an HTML fragment: no tags, entities decoded, spaces tidied."""
    plain = html.unescape(_BLOCK_TAG_RE.sub("\n", _safe_html(text)))
    return [" ".join(line.split()) for line in plain.splitlines() if line.strip()]


def clean_text(text: str) -> str:
    """Return an HTML fragment as one line of plain text."""
    return " ".join(clean_lines(text))


class _ListItems(HTMLParser):
    """Collect top-level list items (nested items become extra lines of their parent)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.items: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("ul", "ol"):
            self.depth += 1
        elif tag == "li" and self.depth == 1:
            self.items.append([""])
        elif tag in ("li", "br", "p") and self.depth > 1 and self.items:
            self.items[-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("ul", "ol") and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth and self.items:
            self.items[-1][-1] += data


def html_list_items(text: str) -> list[str]:
    """Return the top-level ``<li>`` items of an HTML fragment as plain text, one item each."""
    parser = _ListItems()
    parser.feed(_safe_html(text))
    parser.close()
    items = []
    for parts in parser.items:
        lines = [" ".join(part.split()) for part in parts]
        item = "\n".join(line for line in lines if line)
        if item:
            items.append(item)
    return items


def pick_text(texts: Mapping[str, Any] | None, language: str) -> tuple[str, str]:
    """Return (text, its language) in ``language``, else Finnish, Swedish, English, else ("", language)."""
    texts = texts or {}
    for lang in (language, *LANGUAGES):
        value = texts.get(lang)
        if isinstance(value, str) and value:
            return value, lang
    return "", language


def level_sort_key(label: str) -> tuple[int, str]:
    """Order level labels S, T1, T2/H2, H3, … by the number they end with (unknown ones last)."""
    if label == "S":
        return (0, label)
    digits = re.search(r"(\d+)$", label)
    return (int(digits.group(1)), label) if digits else (99, label)


# --- small typed accessors that name the place of a problem ------------------------------------


def _obj(value: Any, place: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise FrameworkFormatError(place, f"expected an object, found {_kind(value)}")
    return value


def _opt_obj(value: Any, place: str) -> Mapping[str, Any] | None:
    return None if value is None else _obj(value, place)


def _list(value: Any, place: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise FrameworkFormatError(place, f"expected a list, found {_kind(value)}")
    return value


def _opt_str(value: Any, place: str, limit: int = 200) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise FrameworkFormatError(place, f"expected a string, found {_kind(value)}")
    value = value.strip()
    if len(value) > limit:
        raise FrameworkFormatError(place, f"longer than {limit} characters")
    return value or None


def _id(value: Any, place: str) -> str | None:
    """Return an ePerusteet id (a number, or a string of safe characters) as a string."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise FrameworkFormatError(place, f"expected an id (number or string), found {_kind(value)}")
    text = str(value).strip()
    if not _ID_RE.match(text):
        raise FrameworkFormatError(place, f"not a valid id: {text[:40]!r}")
    return text


def _code(value: Any, place: str) -> str | None:
    """Return a koodisto URI such as ``tutkinnonosat_105444``, or None when absent."""
    text = _opt_str(value, place, limit=_MAX_CODE)
    if text is None:
        return None
    if not _CODE_RE.match(text):
        raise FrameworkFormatError(place, f"not a koodisto code (like tutkinnonosat_105444): {text!r}")
    return text


def _number(value: Any, place: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FrameworkFormatError(place, f"expected a number, found {_kind(value)}")
    try:
        number = float(value)
    except ValueError:
        raise FrameworkFormatError(place, f"expected a number, found {str(value)[:40]!r}") from None
    if not 0 <= number <= 10_000:
        raise FrameworkFormatError(place, f"number out of range: {value}")
    return round(number)


def _texts(value: Any, place: str) -> dict[str, str]:
    """Return a multilingual text object ``{"fi": …, "sv": …}`` as sanitised single-line texts."""
    return {lang: " ".join(lines) for lang, lines in _text_lines(value, place).items()}


def _text_lines(value: Any, place: str) -> dict[str, list[str]]:
    if value is None:
        return {}
    obj = _obj(value, place)
    result = {}
    for lang in LANGUAGES:
        raw = obj.get(lang)
        if raw is None:
            continue
        if not isinstance(raw, str):
            raise FrameworkFormatError(f"{place}.{lang}", f"expected a text, found {_kind(raw)}")
        lines = clean_lines(raw)
        # ePerusteet uses "-" as a stand-in for a translation nobody wrote.
        if lines and lines != ["-"]:
            result[lang] = lines
    return result


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "true/false",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


# --- criteria ------------------------------------------------------------------------------------


def _level_label(entry: Mapping[str, Any], place: str) -> str | None:
    ref = entry.get("_osaamistaso")
    level = _opt_obj(entry.get("osaamistaso"), f"{place}.osaamistaso")
    level_id = _id(ref, f"{place}._osaamistaso") if ref is not None else None
    if level_id is None and level is not None:
        level_id = _id(level.get("id"), f"{place}.osaamistaso.id")
    if level_id in OSAAMISTASO_LABELS:
        return OSAAMISTASO_LABELS[level_id]
    if level is not None:
        title = _texts(level.get("otsikko"), f"{place}.osaamistaso.otsikko")
        if title:
            return pick_text(title, "fi")[0][:32]
    return f"L{level_id}" if level_id else None


def _add_criteria(criteria: dict[str, dict[str, list[str]]], levels: Any, place: str) -> None:
    """Merge ``osaamistasonKriteerit`` entries into ``criteria`` (label → language → lines)."""
    for i, raw in enumerate(_list(levels, place)):
        where = f"{place}[{i}]"
        entry = _obj(raw, where)
        label = _level_label(entry, where)
        for j, kriteeri in enumerate(_list(entry.get("kriteerit"), f"{where}.kriteerit")):
            texts = _texts(kriteeri, f"{where}.kriteerit[{j}]")
            if texts and label is None:
                raise FrameworkFormatError(where, "criteria without a level (_osaamistaso)")
            for lang, text in texts.items():
                criteria.setdefault(label, {}).setdefault(lang, []).append(text)


def _ordered(criteria: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
    return {label: criteria[label] for label in sorted(criteria, key=level_sort_key) if criteria[label]}


def _generic_criteria(unit: Mapping[str, Any], place: str) -> dict[str, dict[str, list[str]]]:
    """Return the criteria of a unit's generic assessment scale (2019+ perusteet), if embedded."""
    scale = unit.get("geneerinenArviointiasteikko")
    if not isinstance(scale, Mapping):  # absent, or only a reference id that we cannot resolve
        return {}
    criteria: dict[str, dict[str, list[str]]] = {}
    _add_criteria(criteria, scale.get("osaamistasonKriteerit"),
                  f"{place}.geneerinenArviointiasteikko.osaamistasonKriteerit")
    return _ordered(criteria)


# --- units ----------------------------------------------------------------------------------------


class _Keys:
    """Hand out requirement keys of one unit, skipping (with a warning) a key seen twice."""

    def __init__(self, unit_code: str, warnings: list[str]) -> None:
        self.unit_code = unit_code
        self.seen: set[str] = set()
        self.warnings = warnings
        self.requirements: list[ParsedRequirement] = []

    def add(self, key: str, texts: dict[str, str], criteria: dict[str, dict[str, list[str]]], place: str) -> None:
        if len(key) > _MAX_KEY:
            raise FrameworkFormatError(place, f"requirement key longer than {_MAX_KEY} characters")
        if not texts:
            self.warnings.append(f"{place}: requirement {key} has no text; skipped")
            return
        if key in self.seen:
            self.warnings.append(f"{place}: requirement {key} appears twice in {self.unit_code}; the second is skipped")
            return
        self.seen.add(key)
        self.requirements.append(
            ParsedRequirement(key=key, texts=texts, criteria=criteria, position=len(self.requirements))
        )


def _requirement_code(raw: Mapping[str, Any], place: str) -> str | None:
    koodi = _opt_obj(raw.get("koodi"), f"{place}.koodi")
    return _code(koodi.get("uri"), f"{place}.koodi.uri") if koodi else None


def _from_2019(unit: Mapping[str, Any], keys: _Keys, place: str) -> bool:
    """Add requirements from ``ammattitaitovaatimukset2019``; return False when it is empty."""
    atv = _opt_obj(unit.get("ammattitaitovaatimukset2019"), f"{place}.ammattitaitovaatimukset2019")
    if atv is None:
        return False
    where = f"{place}.ammattitaitovaatimukset2019"
    top = _list(atv.get("vaatimukset"), f"{where}.vaatimukset")
    areas = _list(atv.get("kohdealueet"), f"{where}.kohdealueet")
    if not top and not any(_obj(a, f"{where}.kohdealueet[{i}]").get("vaatimukset") for i, a in enumerate(areas)):
        return False
    criteria = _generic_criteria(unit, place)
    groups = [(None, top, f"{where}.vaatimukset")] + [
        (i, _list(_obj(area, f"{where}.kohdealueet[{i - 1}]").get("vaatimukset"),
                  f"{where}.kohdealueet[{i - 1}].vaatimukset"), f"{where}.kohdealueet[{i - 1}].vaatimukset")
        for i, area in enumerate(areas, 1)
    ]
    for area_number, lines, list_place in groups:
        for j, raw in enumerate(lines, 1):
            line_place = f"{list_place}[{j - 1}]"
            line = _obj(raw, line_place)
            code = _requirement_code(line, line_place)
            texts = _texts(line.get("vaatimus"), f"{line_place}.vaatimus")
            if not texts and isinstance(line.get("koodi"), Mapping):
                texts = _texts(line["koodi"].get("nimi"), f"{line_place}.koodi.nimi")
            derived = f"{keys.unit_code}:v{j}" if area_number is None else f"{keys.unit_code}:k{area_number}:{j}"
            keys.add(code or derived, texts, criteria, line_place)
    return True


def _from_assessment(unit: Mapping[str, Any], keys: _Keys, place: str) -> str | None:
    """Add requirements from ``arviointi.arvioinninKohdealueet``; return "2018", "2015" or None."""
    arviointi = _opt_obj(unit.get("arviointi"), f"{place}.arviointi")
    if arviointi is None:
        return None
    where = f"{place}.arviointi.arvioinninKohdealueet"
    areas = _list(arviointi.get("arvioinninKohdealueet"), where)
    coded = False
    for i, raw_area in enumerate(areas, 1):
        area_place = f"{where}[{i - 1}]"
        area = _obj(raw_area, area_place)
        code = _requirement_code(area, area_place)
        targets = [_obj(t, f"{area_place}.arvioinninKohteet[{j}]")
                   for j, t in enumerate(_list(area.get("arvioinninKohteet"), f"{area_place}.arvioinninKohteet"))]
        if not any(t.get("otsikko") for t in targets):
            # Reform 2018: the assessment area is the requirement; its targets only carry criteria.
            coded = coded or code is not None
            criteria: dict[str, dict[str, list[str]]] = {}
            for j, target in enumerate(targets):
                _add_criteria(criteria, target.get("osaamistasonKriteerit"),
                              f"{area_place}.arvioinninKohteet[{j}].osaamistasonKriteerit")
            keys.add(code or f"{keys.unit_code}:k{i}", _texts(area.get("otsikko"), f"{area_place}.otsikko"),
                     _ordered(criteria), area_place)
        else:
            # 2015 era: generic areas ("1. Työprosessin hallinta"); each titled target is a requirement.
            # Some units carry a code on such a generic area as well; the targets are the finer,
            # badge-sized statements, so they win and the area code is not used.
            for j, target in enumerate(targets, 1):
                target_place = f"{area_place}.arvioinninKohteet[{j - 1}]"
                criteria = {}
                _add_criteria(criteria, target.get("osaamistasonKriteerit"), f"{target_place}.osaamistasonKriteerit")
                keys.add(f"{keys.unit_code}:k{i}:{j}", _texts(target.get("otsikko"), f"{target_place}.otsikko"),
                         _ordered(criteria), target_place)
    if not areas:
        return None
    return "2018" if coded else "2015"


def _from_telma(unit: Mapping[str, Any], keys: _Keys, place: str) -> bool:
    """Add requirements from a TELMA/VALMA unit's ``valmaTelmaSisalto.osaamistavoite`` lists."""
    content = _opt_obj(unit.get("valmaTelmaSisalto"), f"{place}.valmaTelmaSisalto")
    if content is None:
        return False
    where = f"{place}.valmaTelmaSisalto.osaamistavoite"
    goals = _list(content.get("osaamistavoite"), where)
    for i, raw in enumerate(goals, 1):
        goal = _obj(raw, f"{where}[{i - 1}]")
        for j, item in enumerate(_list(goal.get("tavoitteet"), f"{where}[{i - 1}].tavoitteet"), 1):
            item_place = f"{where}[{i - 1}].tavoitteet[{j - 1}]"
            keys.add(f"{keys.unit_code}:t{i}:{j}", _texts(item, item_place), {}, item_place)
    return bool(goals)


def _from_html_list(unit: Mapping[str, Any], keys: _Keys, place: str) -> None:
    """Add requirements from the ``ammattitaitovaatimukset`` HTML list, one per top-level item."""
    value = _opt_obj(unit.get("ammattitaitovaatimukset"), f"{place}.ammattitaitovaatimukset")
    if value is None:
        return
    by_lang: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        raw = value.get(lang)
        if raw is None:
            continue
        if not isinstance(raw, str):
            raise FrameworkFormatError(
                f"{place}.ammattitaitovaatimukset.{lang}", f"expected a text, found {_kind(raw)}"
            )
        by_lang[lang] = html_list_items(raw)
    base = by_lang.get("fi") or next(iter(by_lang.values()), [])
    for n in range(len(base)):
        # Translations are matched by position; a list of another length is left out.
        texts = {lang: items[n] for lang, items in by_lang.items() if len(items) == len(base)}
        keys.add(f"{keys.unit_code}:a{n + 1}", texts, {}, f"{place}.ammattitaitovaatimukset")


def _parse_unit(
    raw: Any, place: str, warnings: list[str], *, points: int | None = None, position: int = 0
) -> tuple[ParsedUnit | None, str | None]:
    """Return the unit and the format generation its requirements were in."""
    unit = _obj(raw, place)
    koodi = _opt_obj(unit.get("koodi"), f"{place}.koodi")
    code = _code(unit.get("koodiUri"), f"{place}.koodiUri") or (
        _code(koodi.get("uri"), f"{place}.koodi.uri") if koodi else None
    )
    names = _texts(unit.get("nimi"), f"{place}.nimi")
    if koodi:  # ePerusteet shows the koodisto name where the unit's own is missing
        for lang, text in _texts(koodi.get("nimi"), f"{place}.koodi.nimi").items():
            names.setdefault(lang, text)
    if code is None:
        warnings.append(f"{place}: unit {pick_text(names, 'fi')[0]!r} has no code (koodiUri); skipped")
        return None, None
    own_points = _points(unit.get("laajuus"), unit.get("laajuusMaksimi"), place)
    points = own_points if points is None else points
    keys = _Keys(code, warnings)
    generation = None
    if _from_2019(unit, keys, place):
        generation = "2019"
    else:
        generation = _from_assessment(unit, keys, place)
        if generation is None and not _from_telma(unit, keys, place):
            _from_html_list(unit, keys, place)
    parsed = ParsedUnit(
        code=code, source_id=_id(unit.get("id"), f"{place}.id"), names=names or {"fi": code},
        points=points, position=position, requirements=tuple(keys.requirements),
    )
    return parsed, generation


def _points(laajuus: Any, maximum: Any, place: str) -> int | None:
    # TELMA-type units give 0 with a maximum ("0–25 osp"); the maximum is the meaningful figure.
    points = _number(laajuus, f"{place}.laajuus")
    if not points:
        points = _number(maximum, f"{place}.laajuusMaksimi") or points
    return points


def _unit_references(suoritustavat: Any) -> tuple[dict[str, tuple[int | None, int]], bool]:
    """Return {unit id: (points, order)} from the preferred way of completing, and whether it is the reform one."""
    ways = []
    for i, raw in enumerate(_list(suoritustavat, "suoritustavat")):
        way = _obj(raw, f"suoritustavat[{i}]")
        name = _opt_str(way.get("suoritustapakoodi"), f"suoritustavat[{i}].suoritustapakoodi") or ""
        ways.append((name, i, way))
    ways.sort(key=lambda w: (_SUORITUSTAPA_ORDER.index(w[0]) if w[0] in _SUORITUSTAPA_ORDER else 9, w[1]))
    references: dict[str, tuple[int | None, int]] = {}
    for _name, i, way in ways:
        place = f"suoritustavat[{i}].tutkinnonOsaViitteet"
        for j, ref_raw in enumerate(_list(way.get("tutkinnonOsaViitteet"), place)):
            ref = _obj(ref_raw, f"{place}[{j}]")
            unit_id = _id(ref.get("_tutkinnonOsa"), f"{place}[{j}]._tutkinnonOsa")
            if unit_id is None or unit_id in references:
                continue
            order = _number(ref.get("jarjestys"), f"{place}[{j}].jarjestys")
            points = _points(ref.get("laajuus"), ref.get("laajuusMaksimi"), f"{place}[{j}]")
            references[unit_id] = (points, order if order is not None else 10_000)
    return references, any(w[0] == "reformi" for w in ways)


# --- documents ------------------------------------------------------------------------------------


def _parse_peruste(doc: Mapping[str, Any]) -> ParsedFramework:
    peruste_id = _id(doc.get("id"), "id")
    if peruste_id is None:
        raise FrameworkFormatError("id", "a peruste needs its id")
    references, reform = _unit_references(doc.get("suoritustavat"))
    raw_units = _list(doc.get("tutkinnonOsat"), "tutkinnonOsat")
    warnings: list[str] = []
    found: list[tuple[int, int, ParsedUnit]] = []
    generations = set()
    seen: set[str] = set()
    for i, raw in enumerate(raw_units):
        place = f"tutkinnonOsat[{i}]"
        unit_id = _id(_obj(raw, place).get("id"), f"{place}.id")
        points, order = references.get(unit_id or "", (None, 10_000))
        unit, generation = _parse_unit(raw, place, warnings, points=points)
        if unit is None:
            continue
        if unit.code in seen:
            warnings.append(f"{place}: unit {unit.code} appears twice; the second is skipped")
            continue
        seen.add(unit.code)
        generations.add(generation)
        found.append((order, i, unit))
    found.sort(key=lambda item: (item[0], item[1]))
    units = tuple(_at(unit, n) for n, (_o, _i, unit) in enumerate(found))
    if "2019" in generations:
        generation = "2019"
    elif "2018" in generations or reform:
        generation = "2018"
    else:
        generation = "2015"
    return ParsedFramework(
        source="eperusteet", source_id=peruste_id, names=_texts(doc.get("nimi"), "nimi") or {"fi": peruste_id},
        diaarinumero=_opt_str(doc.get("diaarinumero"), "diaarinumero", limit=64),
        kind=_opt_str(doc.get("koulutustyyppi"), "koulutustyyppi", limit=64),
        format_generation=generation, units=units, complete=True, shape="peruste", warnings=tuple(warnings),
    )


def _at(unit: ParsedUnit, position: int) -> ParsedUnit:
    return ParsedUnit(
        code=unit.code, source_id=unit.source_id, names=unit.names, points=unit.points, position=position,
        requirements=unit.requirements, has_requirements=unit.has_requirements,
    )


def _parse_single_units(items: list[Any], prefix: str | None) -> ParsedFramework:
    warnings: list[str] = []
    units = []
    generations = set()
    for i, raw in enumerate(items):
        unit, generation = _parse_unit(raw, f"{prefix}[{i}]" if prefix is not None else "", warnings, position=i)
        if unit is not None:
            units.append(unit)
            generations.add(generation)
    if not units:
        raise FrameworkFormatError(prefix or "", "no unit with a code (koodiUri)")
    generation = max((g for g in generations if g), default=None)
    return ParsedFramework(
        source="eperusteet", source_id=SINGLE_UNITS_ID, names=dict(SINGLE_UNITS_NAMES), diaarinumero=None,
        kind=None, format_generation=generation, units=tuple(units), complete=False, shape="tutkinnonosa",
        warnings=tuple(warnings),
    )


def _koodisto_of(element: Mapping[str, Any]) -> str:
    uri = element.get("koodiUri")
    return uri.rsplit("_", 1)[0] if isinstance(uri, str) and "_" in uri else ""


def _parse_osaamismerkit_codes(items: list[Any]) -> ParsedFramework:
    newest: dict[str, tuple[int, dict[str, str], int]] = {}
    for i, raw in enumerate(items):
        place = f"[{i}]"
        element = _obj(raw, place)
        code = _code(element.get("koodiUri"), f"{place}.koodiUri")
        if code is None or not code.startswith("osaamismerkit_"):
            raise FrameworkFormatError(f"{place}.koodiUri", "expected an osaamismerkit_NNNN code")
        version = _number(element.get("versio"), f"{place}.versio") or 0
        names = {}
        for j, meta_raw in enumerate(_list(element.get("metadata"), f"{place}.metadata")):
            meta = _obj(meta_raw, f"{place}.metadata[{j}]")
            lang = (_opt_str(meta.get("kieli"), f"{place}.metadata[{j}].kieli") or "").lower()
            name = _opt_str(meta.get("nimi"), f"{place}.metadata[{j}].nimi", limit=500)
            if lang in LANGUAGES and name:
                names[lang] = clean_text(name)
        if code not in newest or version >= newest[code][0]:
            newest[code] = (version, names or {"fi": code}, i)
    ordered = sorted(newest, key=_code_order)
    units = tuple(
        ParsedUnit(code=code, source_id=None, names=newest[code][1], points=None, position=n, has_requirements=False)
        for n, code in enumerate(ordered)
    )
    return ParsedFramework(
        source="osaamismerkit", source_id=OSAAMISMERKIT_ID, names=dict(OSAAMISMERKIT_NAMES), diaarinumero=None,
        kind=None, format_generation="osaamismerkit", units=units, complete=False, shape="osaamismerkit-koodisto",
    )


def _code_order(code: str) -> tuple[int, str]:
    number = code.rsplit("_", 1)[-1]
    return (int(number), code) if number.isdigit() else (10**9, code)


def _parse_osaamismerkit(items: list[Any]) -> ParsedFramework:
    warnings: list[str] = []
    units = []
    seen = set()
    for i, raw in enumerate(items):
        place = f"[{i}]"
        badge = _obj(raw, place)
        code = _code(badge.get("koodiUri"), f"{place}.koodiUri")
        names = _texts(badge.get("nimi"), f"{place}.nimi")
        if code is None:
            warnings.append(f"{place}: osaamismerkki {pick_text(names, 'fi')[0]!r} has no code; skipped")
            continue
        state = _opt_str(badge.get("tila"), f"{place}.tila")
        if state and state != "JULKAISTU":
            warnings.append(f"{place}: {code} is not published ({state}); skipped")
            continue
        if code in seen:
            warnings.append(f"{place}: {code} appears twice; the second is skipped")
            continue
        seen.add(code)
        criteria: dict[str, dict[str, list[str]]] = {}
        for j, item in enumerate(_list(badge.get("arviointikriteerit"), f"{place}.arviointikriteerit")):
            where = f"{place}.arviointikriteerit[{j}]"
            for lang, text in _texts(_obj(item, where).get("arviointikriteeri"), f"{where}.arviointikriteeri").items():
                criteria.setdefault("S", {}).setdefault(lang, []).append(text)
        keys = _Keys(code, warnings)
        for j, item in enumerate(_list(badge.get("osaamistavoitteet"), f"{place}.osaamistavoitteet"), 1):
            where = f"{place}.osaamistavoitteet[{j - 1}]"
            keys.add(f"{code}:t{j}", _texts(_obj(item, where).get("osaamistavoite"), f"{where}.osaamistavoite"),
                     criteria, where)
        units.append(ParsedUnit(
            code=code, source_id=_id(badge.get("id"), f"{place}.id"), names=names or {"fi": code}, points=None,
            position=0, requirements=tuple(keys.requirements),
        ))
    units.sort(key=lambda u: _code_order(u.code))
    return ParsedFramework(
        source="osaamismerkit", source_id=OSAAMISMERKIT_ID, names=dict(OSAAMISMERKIT_NAMES), diaarinumero=None,
        kind=None, format_generation="osaamismerkit", units=tuple(_at(u, n) for n, u in enumerate(units)),
        complete=True, shape="osaamismerkit", warnings=tuple(warnings),
    )


def _looks_like_unit(value: Any) -> bool:
    if not isinstance(value, Mapping) or "metadata" in value:
        return False
    has_code = isinstance(value.get("koodiUri"), str) or isinstance(value.get("koodi"), Mapping)
    unit_fields = ("arviointi", "ammattitaitovaatimukset", "ammattitaitovaatimukset2019", "valmaTelmaSisalto",
                   "osanTyyppi", "ammattitaidonOsoittamistavat")
    return has_code and any(name in value for name in unit_fields)


def parse_framework(data: Any) -> ParsedFramework:
    """Read one JSON document (already decoded) as framework data.

    Raises:
        NotFrameworkError: the document is something else (a scale, koodisto metadata, …).
        FrameworkFormatError: it is framework data with a problem; ``place`` names where.
    """
    if isinstance(data, Mapping):
        if "tutkinnonOsat" in data or "suoritustavat" in data:
            return _parse_peruste(data)
        if _looks_like_unit(data):
            return _parse_single_units([data], None)
        if "koodistoUri" in data:
            raise NotFrameworkError(f"koodisto metadata of {str(data['koodistoUri'])[:60]!r}, not framework data")
        if "data" in data and ("sivu" in data or "kokonaismäärä" in data):
            raise NotFrameworkError("a page of search results; fetch each peruste by its id instead")
        raise NotFrameworkError("a JSON object that is neither a peruste nor a unit")
    if isinstance(data, list):
        if not data:
            raise NotFrameworkError("an empty list")
        first = data[0]
        if not isinstance(first, Mapping):
            raise NotFrameworkError("a JSON list that does not hold objects")
        koodisto = _koodisto_of(first)
        api_fields = ("osaamistavoitteet", "arviointikriteerit", "kategoria")
        if koodisto == "osaamismerkit" and any(name in first for name in api_fields):
            return _parse_osaamismerkit(data)
        if "metadata" in first and "koodiUri" in first:
            if koodisto == "osaamismerkit":
                return _parse_osaamismerkit_codes(data)
            if koodisto.startswith("arviointiasteikko"):
                raise NotFrameworkError(f"an assessment scale code list ({koodisto}); the levels are built in")
            raise NotFrameworkError(
                f"a koodisto code list ({koodisto or 'unknown'}) with names only, not framework data"
            )
        if _looks_like_unit(first):
            return _parse_single_units(data, "")
        raise NotFrameworkError("a JSON list of unknown objects")
    raise NotFrameworkError(f"JSON {_kind(data)}, not framework data")
