"""Parse a criteria catalogue (badge definitions shared between organisations)."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from badges.core.errors import BadgesError

LANGUAGES = ("fi", "sv", "en")


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


@dataclass(frozen=True, slots=True)
class Catalogue:
    """A versioned set of badge definitions."""

    id: str
    version: str
    name: Mapping[str, str]
    definitions: tuple[Definition, ...]


def _texts(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not isinstance(value.get("fi"), str) or not value["fi"].strip():
        raise CatalogueError(f"{where}: a Finnish text ('fi') is required")
    return {lang: value[lang] for lang in LANGUAGES if isinstance(value.get(lang), str) and value[lang].strip()}


def parse_catalogue(data: Any) -> Catalogue:
    """Validate and return a catalogue from its parsed JSON."""
    if not isinstance(data, Mapping):
        raise CatalogueError("the catalogue must be a JSON object")
    for key in ("id", "version"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise CatalogueError(f"the catalogue needs a '{key}'")
    items = data.get("achievements")
    if not isinstance(items, list) or not items:
        raise CatalogueError("the catalogue needs a non-empty 'achievements' list")
    definitions, seen = [], set()
    for number, item in enumerate(items, start=1):
        where = f"achievements[{number}]"
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise CatalogueError(f"{where}: each definition needs an 'id'")
        if item["id"] in seen:
            raise CatalogueError(f"{where}: the id {item['id']!r} is used twice")
        seen.add(item["id"])
        alignments = item.get("alignments", [])
        if not isinstance(alignments, list) or not all(
            isinstance(a, Mapping) and isinstance(a.get("targetName"), str) and isinstance(a.get("targetUrl"), str)
            for a in alignments
        ):
            raise CatalogueError(f"{where}: each alignment needs 'targetName' and 'targetUrl'")
        valid_days = item.get("valid_days")
        if valid_days is not None and (not isinstance(valid_days, int) or valid_days <= 0):
            raise CatalogueError(f"{where}: 'valid_days' must be a positive whole number")
        definitions.append(
            Definition(
                id=item["id"], name=_texts(item.get("name"), f"{where}.name"),
                description=_texts(item.get("description"), f"{where}.description"),
                criteria=_texts(item.get("criteria"), f"{where}.criteria"),
                image_alt=_texts(item.get("image_alt"), f"{where}.image_alt"),
                alignments=tuple(dict(a) for a in alignments), plain_fi=item.get("plain_fi"),
                valid_days=valid_days,
            )
        )
    return Catalogue(id=data["id"], version=data["version"], name=_texts(data.get("name"), "name"),
                     definitions=tuple(definitions))
