"""Blueprint ``frameworks``: browse and search qualification frameworks (read-only).

Any staff member (admin or coach of any organisation) may browse; framework data is national
reference data, not an organisation's own. Clients get 404, anonymous visitors the login page.
"""

from typing import Any

from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SearchField
from wtforms.validators import Length, Optional

from badges import frameworks, services
from badges.core.eperusteet import LANGUAGES, level_sort_key, pick_text
from badges.db import get_session
from badges.web.access import me

bp = Blueprint("frameworks", __name__, url_prefix="/frameworks")

HTML_RESULTS = 50
JSON_RESULTS = 20


class SearchForm(FlaskForm):
    """The search box (GET, so no CSRF token: it changes nothing)."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Search units and requirements"),
        validators=[Optional(), Length(min=frameworks.MIN_QUERY, max=frameworks.MAX_QUERY,
                                       message=_l("Type 2–100 characters."))],
    )


@bp.before_request
def staff_only() -> Any:
    """Let in admins and coaches of any organisation; send others to login or a 404."""
    if not current_user.is_authenticated:
        if request.path.endswith(".json"):
            abort(401)
        return current_app.login_manager.unauthorized()
    if not services.organisations_of(get_session(), me(), ("admin", "coach")):
        abort(404)
    return None


def _language() -> str:
    return str(get_locale() or "fi")


def _text(texts: dict[str, Any] | None) -> tuple[str, str]:
    """Return (text, language) in the reader's language, Finnish first as the fallback."""
    return pick_text(texts, _language())


def _criteria(criteria: dict[str, Any] | None) -> list[tuple[str, list[str], str]]:
    """Return [(level label, lines, language)] in level order, in the reader's language if written."""
    result = []
    for label in sorted(criteria or {}, key=level_sort_key):
        by_language = criteria[label] or {}
        for lang in (_language(), *LANGUAGES):
            lines = by_language.get(lang)
            if lines:
                result.append((label, list(lines), lang))
                break
    return result


def _level_name(label: str) -> str:
    """Return the name of a level: T = satisfactory, H = good, K = excellent, S = pass."""
    names = {"T": _("Satisfactory"), "H": _("Good"), "K": _("Excellent"), "S": _("Pass")}
    return names.get(label[:1], "")


@bp.context_processor
def template_helpers() -> dict[str, Any]:
    """Offer the language-picking helpers to this blueprint's templates."""
    return {"fw_text": _text, "fw_criteria": _criteria, "level_name": _level_name,
            "target_url": frameworks.target_url}


@bp.get("")
def qualification_list():  # noqa: ANN201 - Flask response
    """List the imported qualifications, and search units and requirements across them."""
    session = get_session()
    searched = "q" in request.args
    form = SearchForm(formdata=request.args if searched else None)
    hits = None
    if searched and form.validate() and frameworks.normalise_query(form.q.data):
        hits = frameworks.search(session, form.q.data, limit=HTML_RESULTS)
    return render_template(
        "frameworks/qualification_list.html", form=form, hits=hits,
        query=frameworks.normalise_query(form.q.data), qualifications=frameworks.list_qualifications(session),
    )


@bp.get("/search.json")
def search_json():  # noqa: ANN201 - Flask response
    """Return up to 20 matching units and requirements for picking badge alignments."""
    query = request.args.get("q", "")
    if len(query) > 200:
        return {"error": "invalid_input", "message": _("Type 2–100 characters.")}, 400
    hits = frameworks.search(get_session(), query, limit=JSON_RESULTS)
    language = _language()
    return {"query": frameworks.normalise_query(query), "results": [hit.summary(language) for hit in hits]}


@bp.get("/<source_id>")
def qualification_detail(source_id: str):  # noqa: ANN201 - Flask response
    """Show one qualification's units."""
    session = get_session()
    qualification = frameworks.get_qualification(session, source_id)
    if qualification is None:
        abort(404)
    return render_template(
        "frameworks/qualification_detail.html", qualification=qualification,
        counts=frameworks.requirement_counts(session, qualification),
    )


@bp.get("/<source_id>/units/<code>")
def unit_detail(source_id: str, code: str):  # noqa: ANN201 - Flask response
    """Show one unit's requirements and their assessment criteria per level."""
    session = get_session()
    qualification = frameworks.get_qualification(session, source_id)
    unit = frameworks.get_unit(session, qualification, code) if qualification is not None else None
    if unit is None:
        abort(404)
    requirements = sorted(unit.requirements, key=lambda r: (r.withdrawn_at is not None, r.position))
    return render_template("frameworks/unit_detail.html", qualification=qualification, unit=unit,
                           requirements=requirements)
