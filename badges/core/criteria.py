"""Parse and validate a criteria catalogue (badge definitions shared between organisations).

A catalogue is a human-edited JSON file, so every problem is reported with the line and
column where the editor should look: the text is parsed once by :mod:`json` (malformed JSON
gets the decoder's own position) and once by a small walker that records where each value
and each key starts. Schema errors from :mod:`jsonschema` and the semantic checks (duplicate
ids, wording, "Osaa …" criteria) are then mapped back to those positions.

The schema document is passed in by the caller (it lives in ``criteria/`` beside the
catalogues); the core reads no files.
"""

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from json.decoder import scanstring
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from badges.core.artwork import PALETTE
from badges.core.errors import BadgesError
from badges.core.wording import check_wording

LANGUAGES = ("fi", "sv", "en")
#: How an observable skill starts in each language ("Osaa …", "Kan …", "Can …").
SKILL_OPENERS = {"fi": "Osaa", "sv": "Kan", "en": "Can"}
#: Texts of a definition checked for deficit and diagnosis wording.
WORDING_FIELDS = ("name", "description", "criteria", "evidence_guidance")

Path = tuple[str | int, ...]


class CatalogueError(BadgesError):
    """A catalogue file does not follow the format; the message names the place."""

    code = "catalogue_invalid"


@dataclass(frozen=True, slots=True)
class Definition:
    """One badge definition of a catalogue, texts per language."""

    id: str
    name: Mapping[str, str]
    description: Mapping[str, str]
    criteria: Mapping[str, str]
    image_alt: Mapping[str, str]
    alignments: tuple[Mapping[str, Any], ...]
    plain_fi: str | None = None
    valid_days: int | None = None
    evidence_guidance: Mapping[str, str] = field(default_factory=dict)
    #: One of :data:`badges.core.artwork.PALETTE`; None lets the artwork pick one.
    colour: str | None = None


@dataclass(frozen=True, slots=True)
class Catalogue:
    """A versioned set of badge definitions."""

    id: str
    version: str
    name: Mapping[str, str]
    definitions: tuple[Definition, ...]
    publisher: str = ""
    description: Mapping[str, str] = field(default_factory=dict)

    def definition(self, definition_id: str) -> Definition | None:
        """Return the definition with ``definition_id``, if any."""
        return next((d for d in self.definitions if d.id == definition_id), None)


@dataclass(frozen=True, slots=True)
class Problem:
    """One error or warning about a catalogue, with where it is in the file (1-based)."""

    severity: str  #: ``error`` or ``warning``
    path: str  #: e.g. ``achievements[3].criteria.fi`` (indexes count from 0)
    message: str
    line: int | None = None
    column: int | None = None

    def format(self, source: str) -> str:
        """Return ``source:line:column: path: message`` (warnings say so)."""
        where = f"{source}:{self.line}:{self.column}" if self.line else source
        kind = "warning: " if self.severity == "warning" else ""
        return f"{where}: {kind}{self.path}: {self.message}"


@dataclass(frozen=True, slots=True)
class CatalogueCheck:
    """The outcome of checking one catalogue text: the catalogue (if valid) and all problems."""

    catalogue: Catalogue | None
    problems: tuple[Problem, ...]

    @property
    def errors(self) -> tuple[Problem, ...]:
        """Return the problems that make the catalogue unusable."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        """Return the problems an editor should look at but that do not block use."""
        return tuple(p for p in self.problems if p.severity == "warning")


def text_in(texts: Mapping[str, str], language: str) -> str:
    """Return the text in ``language``, falling back to Finnish."""
    return texts.get(language) or texts.get("fi") or next(iter(texts.values()), "")


# --- positions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Spot:
    value_at: int  #: offset of the value's first character
    key_at: int | None  #: offset of the key's opening quote, for object members


_WHITESPACE = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


class _Walker:
    """Record where each value of an already valid JSON text starts (and repeated keys)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.spots: dict[Path, _Spot] = {}
        self.repeated: list[tuple[Path, int]] = []

    def skip(self, i: int) -> int:
        return _WHITESPACE.match(self.text, i).end()  # type: ignore[union-attr]

    def value(self, i: int, path: Path, key_at: int | None) -> int:
        i = self.skip(i)
        self.spots[path] = _Spot(i, key_at)
        char = self.text[i]
        if char == "{":
            return self.members(i + 1, path)
        if char == "[":
            return self.items(i + 1, path)
        if char == '"':
            return scanstring(self.text, i + 1)[1]
        return _SCALAR.match(self.text, i).end()  # type: ignore[union-attr]

    def members(self, i: int, path: Path) -> int:
        seen: set[str] = set()
        i = self.skip(i)
        if self.text[i] == "}":
            return i + 1
        while True:
            key_at = self.skip(i)
            key, i = scanstring(self.text, key_at + 1)
            if key in seen:
                self.repeated.append((path + (key,), key_at))
            seen.add(key)
            i = self.skip(i) + 1  # the colon
            i = self.skip(self.value(i, path + (key,), key_at))
            if self.text[i] == "}":
                return i + 1
            i += 1  # the comma

    def items(self, i: int, path: Path) -> int:
        i = self.skip(i)
        if self.text[i] == "]":
            return i + 1
        index = 0
        while True:
            i = self.skip(self.value(i, path + (index,), None))
            if self.text[i] == "]":
                return i + 1
            i, index = i + 1, index + 1


def _line_column(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def format_path(path: Sequence[str | int]) -> str:
    """Return ``achievements[3].criteria.fi`` for a JSON path (``catalogue`` for the root)."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "catalogue"


# --- checking -----------------------------------------------------------------------------

Locate = Callable[[Path, int], tuple[int | None, int | None]]


def check_catalogue_text(text: str | bytes, *, schema: Mapping[str, Any]) -> CatalogueCheck:
    """Check a catalogue's text against ``schema`` and the semantic rules.

    Returns every problem found, errors and warnings, ordered by position; ``catalogue`` is
    set only when there are no errors.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = text.count(b"\n", 0, error.start) + 1
            return CatalogueCheck(
                None, (Problem("error", "catalogue", "the file is not UTF-8 text", line, 1),)
            )
    text = text.removeprefix("\ufeff")
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        problem = Problem(
            "error", "catalogue", f"not valid JSON: {error.msg}", error.lineno, error.colno
        )
        return CatalogueCheck(None, (problem,))
    except (ValueError, RecursionError) as error:
        return CatalogueCheck(
            None, (Problem("error", "catalogue", f"not valid JSON: {error}", 1, 1),)
        )
    walker = _Walker(text)
    try:
        walker.value(0, (), None)
    except RecursionError:
        return CatalogueCheck(
            None, (Problem("error", "catalogue", "the file is nested too deeply", 1, 1),)
        )

    def locate(path: Path, extra: int = 0) -> tuple[int | None, int | None]:
        # The closest recorded ancestor: a missing key is reported at its parent object.
        while path not in walker.spots and path:
            path = path[:-1]
        spot = walker.spots.get(path)
        if spot is None:
            return None, None
        offset = (
            spot.value_at + extra
            if extra
            else (spot.key_at if spot.key_at is not None else spot.value_at)
        )
        return _line_column(text, offset)

    problems = [
        Problem(
            "error",
            format_path(path),
            f"the key {path[-1]!r} appears twice in the same object",
            *_line_column(text, offset),
        )
        for path, offset in walker.repeated
    ]
    problems += _problems(data, schema, locate, raw=text, spots=walker.spots)
    return _result(data, problems)


def parse_catalogue(data: Any, *, schema: Mapping[str, Any] | None = None) -> Catalogue:
    """Validate and return a catalogue from its parsed JSON.

    With ``schema`` the full schema and semantic checks run; without it only the checks
    needed to build the definitions. Warnings never stop parsing.

    Raises:
        CatalogueError: the first error, with its path.
    """
    if schema is not None:
        check = _result(data, _problems(data, schema, lambda path, extra=0: (None, None)))
        if check.errors:
            first = check.errors[0]
            raise CatalogueError(f"{first.path}: {first.message}")
        return check.catalogue  # type: ignore[return-value]
    return _build(data)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


def _result(data: Any, problems: list[Problem]) -> CatalogueCheck:
    problems.sort(key=lambda p: (p.line or 0, p.column or 0, p.severity != "error"))
    errors = [p for p in problems if p.severity == "error"]
    catalogue = None
    if not errors:
        try:
            catalogue = _build(data)
        except CatalogueError as error:  # a schema too loose for the builder; still an error
            problems.append(Problem("error", "catalogue", str(error)))
    return CatalogueCheck(catalogue, tuple(problems))


def _problems(
    data: Any,
    schema: Mapping[str, Any],
    locate: Locate,
    *,
    raw: str | None = None,
    spots: Mapping[Path, _Spot] | None = None,
) -> list[Problem]:
    problems = []
    for error in Draft202012Validator(schema).iter_errors(data):
        problems += _schema_problems(error, locate)
    problems += _semantic_problems(data, locate, raw=raw, spots=spots or {})
    return problems


# Plain messages for schema keywords; the editor of a catalogue is not a JSON Schema expert.
_TYPE_NAMES = {
    "object": "an object { … }",
    "array": "a list [ … ]",
    "string": "text in double quotes",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
}


def _schema_problems(error: ValidationError, locate: Locate) -> Iterator[Problem]:
    path: Path = tuple(error.absolute_path)
    keyword, value, schema = error.validator, error.validator_value, error.schema
    instance = error.instance
    if keyword == "required":
        match = re.match(r"^'(.+)' is a required property$", error.message)
        missing = match.group(1) if match else str(value)
        yield Problem("error", format_path(path + (missing,)), "required", *locate(path, 0))
        return
    if keyword == "additionalProperties" and isinstance(instance, Mapping):
        known = set(schema.get("properties", {}))
        for key in instance:
            if key in known:
                continue
            if known <= set(LANGUAGES) and known:
                message = f"unknown language {key!r} (use {', '.join(LANGUAGES)})"
            else:
                message = f"unknown key {key!r} (allowed: {', '.join(sorted(known))})"
            yield Problem("error", format_path(path + (key,)), message, *locate(path + (key,), 0))
        return
    if keyword == "type":
        wanted = value if isinstance(value, str) else " or ".join(value)
        message = f"must be {_TYPE_NAMES.get(wanted, wanted)}"
    elif keyword == "pattern":
        message = schema.get("x-error") or f"does not match the pattern {value}"
    elif keyword == "minLength":
        message = (
            "must not be empty" if value == 1 else f"is too short (at least {value} characters)"
        )
    elif keyword == "maxLength":
        message = f"is too long (at most {value} characters)"
    elif keyword in ("minItems", "minProperties"):
        message = "must not be empty" if value == 1 else f"needs at least {value} entries"
    elif keyword in ("maxItems", "maxProperties"):
        message = f"has too many entries (at most {value})"
    elif keyword == "minimum":
        message = f"must be at least {value}"
    elif keyword == "maximum":
        message = f"must be at most {value}"
    elif keyword == "enum":
        message = "must be one of: " + ", ".join(str(v) for v in value)
    else:
        message = error.message
    yield Problem("error", format_path(path), message, *locate(path, 0))


def _semantic_problems(
    data: Any, locate: Locate, *, raw: str | None, spots: Mapping[Path, _Spot]
) -> list[Problem]:
    """Check what a schema cannot say well: duplicate ids, palette, wording, "Osaa …"."""
    problems: list[Problem] = []
    items = data.get("achievements") if isinstance(data, Mapping) else None
    if not isinstance(items, list):
        return problems
    first_use: dict[str, int] = {}
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            continue
        here: Path = ("achievements", index)
        definition_id = item.get("id")
        if isinstance(definition_id, str):
            if definition_id in first_use:
                problems.append(
                    Problem(
                        "error",
                        format_path(here + ("id",)),
                        f"the id {definition_id!r} is already used by achievements[{first_use[definition_id]}]",
                        *locate(here + ("id",), 0),
                    )
                )
            else:
                first_use[definition_id] = index
        colour = item.get("colour")
        if isinstance(colour, str) and colour.lower() not in PALETTE:
            problems.append(
                Problem(
                    "error",
                    format_path(here + ("colour",)),
                    "must be one of the palette colours: " + ", ".join(PALETTE),
                    *locate(here + ("colour",), 0),
                )
            )
        criteria = item.get("criteria")
        if isinstance(criteria, Mapping):
            for language, opener in SKILL_OPENERS.items():
                text = criteria.get(language)
                if isinstance(text, str) and text.strip() and not _starts_with_word(text, opener):
                    problems.append(
                        Problem(
                            "warning",
                            format_path(here + ("criteria", language)),
                            f'write the criteria as an observable skill starting with "{opener} …"',
                            *locate(here + ("criteria", language), 0),
                        )
                    )
        codes: set[str] = set()
        alignments = item.get("alignments")
        for number, alignment in enumerate(alignments if isinstance(alignments, list) else []):
            code = alignment.get("targetCode") if isinstance(alignment, Mapping) else None
            if isinstance(code, str) and code in codes:
                where = here + ("alignments", number, "targetCode")
                problems.append(
                    Problem(
                        "warning", format_path(where), f"{code} is listed twice", *locate(where, 0)
                    )
                )
            codes.add(code)  # type: ignore[arg-type]
        problems += _wording_problems(item, here, locate, raw=raw, spots=spots)
    return problems


def _starts_with_word(text: str, word: str) -> bool:
    head = text.lstrip()
    return head.startswith(word) and (len(head) == len(word) or not head[len(word)].isalnum())


def _wording_problems(
    item: Mapping[str, Any],
    here: Path,
    locate: Locate,
    *,
    raw: str | None,
    spots: Mapping[Path, _Spot],
) -> list[Problem]:
    problems = []
    texts: list[tuple[Path, str, str]] = []
    for name in WORDING_FIELDS:
        value = item.get(name)
        if isinstance(value, Mapping):
            texts += [
                (here + (name, lang), lang, t) for lang, t in value.items() if isinstance(t, str)
            ]
    if isinstance(item.get("plain_fi"), str):
        texts.append((here + ("plain_fi",), "fi", item["plain_fi"]))
    for path, language, text in texts:
        for finding in check_wording(text, language):
            extra = _raw_offset(raw, spots.get(path), text, finding.start)
            problems.append(
                Problem(
                    "warning",
                    format_path(path),
                    f'wording: "{finding.term}": {finding.suggestion}',
                    *locate(path, extra),
                )
            )
    return problems


def _raw_offset(raw: str | None, spot: _Spot | None, text: str, index: int) -> int:
    """Return the offset of ``text[index]`` from the value's opening quote, when exact.

    JSON strings hold no raw line breaks, so the line is always right; the column is exact
    unless escapes come before the word, in which case the string's start is shown.
    """
    if raw is None or spot is None:
        return 0
    if raw[spot.value_at + 1 : spot.value_at + 1 + index] == text[:index]:
        return index + 1
    return 0


# --- building -------------------------------------------------------------------------------


def _texts(value: Any, where: str, *, required: bool = True) -> dict[str, str]:
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping) or (
        required and (not isinstance(value.get("fi"), str) or not value["fi"].strip())
    ):
        raise CatalogueError(f"{where}: a Finnish text ('fi') is required")
    return {
        lang: value[lang].strip()
        for lang in LANGUAGES
        if isinstance(value.get(lang), str) and value[lang].strip()
    }


def _build(data: Any) -> Catalogue:
    """Return the catalogue's dataclasses; raise CatalogueError on what they cannot hold."""
    if not isinstance(data, Mapping):
        raise CatalogueError("the catalogue must be a JSON object")
    for key in ("id", "version"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise CatalogueError(f"the catalogue needs a '{key}'")
    items = data.get("achievements")
    if not isinstance(items, list) or not items:
        raise CatalogueError("the catalogue needs a non-empty 'achievements' list")
    definitions, seen = [], set()
    for index, item in enumerate(items):
        where = f"achievements[{index}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise CatalogueError(f"{where}: each definition needs an 'id'")
        if item["id"] in seen:
            raise CatalogueError(f"{where}: the id {item['id']!r} is used twice")
        seen.add(item["id"])
        alignments = item.get("alignments", [])
        if not isinstance(alignments, list) or not all(
            isinstance(a, Mapping)
            and isinstance(a.get("targetName"), str)
            and isinstance(a.get("targetUrl"), str)
            for a in alignments
        ):
            raise CatalogueError(f"{where}: each alignment needs 'targetName' and 'targetUrl'")
        valid_days = item.get("valid_days")
        if valid_days is not None and (
            not isinstance(valid_days, int) or isinstance(valid_days, bool) or valid_days <= 0
        ):
            raise CatalogueError(f"{where}: 'valid_days' must be a positive whole number")
        colour = item.get("colour")
        plain = item.get("plain_fi")
        definitions.append(
            Definition(
                id=item["id"],
                name=_texts(item.get("name"), f"{where}.name"),
                description=_texts(item.get("description"), f"{where}.description"),
                criteria=_texts(item.get("criteria"), f"{where}.criteria"),
                image_alt=_texts(item.get("image_alt"), f"{where}.image_alt"),
                alignments=tuple(dict(a) for a in alignments),
                plain_fi=plain.strip() if isinstance(plain, str) and plain.strip() else None,
                valid_days=valid_days,
                evidence_guidance=_texts(
                    item.get("evidence_guidance"), f"{where}.evidence_guidance", required=False
                ),
                colour=colour.lower()
                if isinstance(colour, str) and colour.lower() in PALETTE
                else None,
            )
        )
    publisher = data.get("publisher")
    return Catalogue(
        id=data["id"],
        version=data["version"],
        name=_texts(data.get("name"), "name"),
        definitions=tuple(definitions),
        publisher=publisher if isinstance(publisher, str) else "",
        description=_texts(data.get("description"), "description", required=False),
    )
