"""Constants and helpers of the qualification framework tests (fixtures live in conftest.py)."""

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import SHARED

from badges import frameworks

DATA = Path(__file__).resolve().parent / "data"
EPERUSTEET = SHARED / "data" / "eperusteet"
DEMO_DATA = Path(frameworks.__file__).resolve().parent / "demo_data"
PUUTEOLLISUUS = "peruste_3932281_puuteollisuuden-perustutkinto_subset.json"
PUUTARHA = "peruste_1721199_puutarhatalouden-perustutkinto_subset.json"
LIIKETALOUS = "peruste_1718932_liiketalouden-perustutkinto_subset.json"
TELMA = "peruste_2910079_telma.json"
SINGLE_UNIT = "tutkinnonosa_tutkinnonosat_106003_hautausmaiden-viheralueet.json"
OSAAMISMERKIT_CODES = "koodisto_osaamismerkit_koodit.json"
OSAAMISMERKIT_EXTERNAL = "osaamismerkit_external_testenv.json"


def shared_file(name: str) -> Path:
    """Return a file of ../shared/data/eperusteet, skipping the test when ../shared is absent."""
    path = EPERUSTEET / name
    if not path.is_file():
        pytest.skip("../shared is absent")
    return path


def load(path: Path) -> Any:
    """Return the decoded JSON of ``path``."""
    return json.loads(path.read_text(encoding="utf-8"))
