"""Blueprint ``library``: an organisation's badge definitions and the shared criteria catalogue.

Admins adopt catalogue badges, create their own, edit them (a new version each time) and retire
them; coaches of the organisation may look at the library and the catalogue. Anyone else gets
404 (see :mod:`badges.web.access`).
"""

import base64
import binascii
from typing import Any

from flask import Blueprint, Response, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import FileStorage
from werkzeug.routing import BuildError
from wtforms import BooleanField, HiddenField, IntegerField, RadioField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional

from badges import library
from badges.core import artwork
from badges.core.criteria import text_in
from badges.core.images import ImageUploadError, clean_image
from badges.core.wording import Finding, check_wording
from badges.db import get_session
from badges.models import Achievement, AchievementVersion
from badges.web import utcnow
from badges.web.access import me, owned_or_404, staff_required
from badges.web.messages import message_for, register

bp = Blueprint("library", __name__, url_prefix="/org/<slug>/badges")

LANGUAGES = library.LANGUAGES
#: Language names in their own language, so everyone finds theirs.
LANGUAGE_NAMES = {"fi": "suomi", "sv": "svenska", "en": "English"}
#: Fields of one language's fieldset; the first four are required in the primary language.
TEXT_FIELDS = ("name", "description", "criteria", "image_alt", "evidence_guidance")
REQUIRED_FIELDS = TEXT_FIELDS[:4]
COLOUR_NAMES = {
    "#0b5394": _l("Blue"),
    "#1d6b3a": _l("Green"),
    "#8a2c0d": _l("Brick red"),
    "#5b2a86": _l("Purple"),
    "#7a4a00": _l("Brown"),
    "#005f6b": _l("Teal"),
}
#: A kept preview image travels in the form as base64; a cleaned 1024 px PNG fits easily.
MAX_KEPT_IMAGE = 14 * 1024 * 1024

register(
    {
        "badge_already_adopted": _l(
            "Your organisation has adopted this badge already. Edit the existing badge instead."
        ),
        "alignment_unknown": _l(
            "Some alignment codes are not known. Check them or search the qualification frameworks."
        ),
        "alignment_too_many": _l("Give at most 20 alignment codes."),
        "catalogue_invalid": _l(
            "The catalogue file has errors. An administrator can check it with “badges criteria validate”."
        ),
    }
)


def _register_audit_labels() -> None:
    """Give the audit log plain words for this blueprint's actions."""
    try:
        from badges.web.coach import register_actions
    except ImportError:  # the audit log page is optional for this blueprint
        return
    register_actions(
        {
            "badge.adopt": _l("Adopted a badge from the catalogue"),
            "badge.create": _l("Created a badge"),
            "badge.edit": _l("Edited a badge"),
            "badge.retire": _l("Retired a badge"),
            "badge.unretire": _l("Brought a retired badge back into use"),
        }
    )


_register_audit_labels()


# --- forms ------------------------------------------------------------------------------------


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token: a button that changes something."""


class BadgeForm(FlaskForm):
    """A badge's texts in three languages, its image, validity and alignments."""

    plain_fi = TextAreaField(
        _l("Plain Finnish (selkokieli, optional)"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Short sentences and common words. Shown next to the description."),
        render_kw={"lang": "fi", "rows": "3"},
    )
    colour = RadioField(
        _l("Colour of the generated image"), validators=[Optional()], validate_choice=False
    )
    image = FileField(
        _l("Or upload an image (optional)"),
        description=_l(
            "PNG or JPEG, at most 10 MB. It is used instead of a generated image, checked and saved as a new PNG without its metadata."
        ),
    )
    image_kept = HiddenField()
    discard_image = BooleanField(_l("Use a generated image instead of the uploaded one"))
    valid_days = IntegerField(
        _l("Validity period in days (optional)"),
        validators=[
            Optional(),
            NumberRange(
                min=1,
                max=library.MAX_VALID_DAYS,
                message=_l("Give a number of days from 1 to 3650."),
            ),
        ],
        description=_l(
            "For skills that must be refreshed, e.g. 365 for safety training. Leave empty if the badge does not lapse."
        ),
    )
    alignments = TextAreaField(
        _l("Alignment codes"),
        validators=[Optional(), Length(max=4000)],
        description=_l(
            "Codes of requirements, units or osaamismerkit, separated by commas or new lines, "
            "e.g. ammattitaitovaatimukset_414, tutkinnonosat_105444, osaamismerkit_1002."
        ),
        render_kw={"rows": "3", "spellcheck": "false", "autocapitalize": "none"},
    )
    wording_confirmed = BooleanField(_l("I have checked the wording"))

    def __init__(
        self, *args: Any, language: str = "fi", editing: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.language = language if language in LANGUAGES else "fi"
        self.editing = editing
        first = ("", _l("Keep the current image") if editing else _l("Choose automatically"))
        self.colour.choices = [first] + [(c, COLOUR_NAMES.get(c, c)) for c in artwork.PALETTE]
        if self.colour.data is None:
            self.colour.data = ""
        for key in REQUIRED_FIELDS:
            self.text_field(self.language, key).flags.required = True

    def text_field(self, language: str, key: str) -> Any:
        """Return the field of ``key`` in ``language``."""
        return self[f"{key}_{language}"]

    def languages(self) -> list[str]:
        """Return the languages with the primary one first."""
        return [self.language] + [lang for lang in LANGUAGES if lang != self.language]

    def validate(self, extra_validators: Any = None) -> bool:
        """Check the fields, then that each language's texts are complete (or all empty)."""
        valid = super().validate(extra_validators)
        for language in LANGUAGES:
            values = {
                key: (self.text_field(language, key).data or "").strip() for key in TEXT_FIELDS
            }
            if language != self.language and not any(values.values()):
                continue
            for key in REQUIRED_FIELDS:
                if not values[key]:
                    message = (
                        _("This field is required.")
                        if language == self.language
                        else _(
                            "Fill in this field too, or leave all fields of this language empty."
                        )
                    )
                    self.text_field(language, key).errors.append(message)
                    valid = False
        if self.colour.data and self.colour.data not in artwork.PALETTE:
            self.colour.errors.append(_("Choose one of the colours."))
            valid = False
        return valid

    def texts(self) -> dict[str, dict[str, str]]:
        """Return the typed texts per language."""
        return {
            language: {
                key: (self.text_field(language, key).data or "").strip() for key in TEXT_FIELDS
            }
            for language in LANGUAGES
        }

    def draft(self, image_png: bytes | None) -> library.BadgeDraft:
        """Return what the services need."""
        return library.BadgeDraft(
            language=self.language,
            texts=self.texts(),
            plain_fi=self.plain_fi.data,
            alignment_codes=library.parse_codes(self.alignments.data),
            valid_days=self.valid_days.data,
            colour=self.colour.data or None,
            image_png=image_png,
        )


def _text_fields() -> None:
    """Add name, description, criteria, alt text and evidence guidance for each language."""
    for language in LANGUAGES:
        attrs = {"lang": language}
        setattr(
            BadgeForm,
            f"name_{language}",
            StringField(_l("Name"), validators=[Optional(), Length(max=200)], render_kw=attrs),
        )
        setattr(
            BadgeForm,
            f"description_{language}",
            TextAreaField(
                _l("Description"),
                validators=[Optional(), Length(max=2000)],
                render_kw={**attrs, "rows": "3"},
                description=_l("What the badge shows, in one or two sentences."),
            ),
        )
        setattr(
            BadgeForm,
            f"criteria_{language}",
            TextAreaField(
                _l("Criteria"),
                validators=[Optional(), Length(max=2000)],
                render_kw={**attrs, "rows": "3"},
                description=_l(
                    "An observable skill: “Osaa …”, “Kan …”, “Can …”. Achievements only, neutral words."
                ),
            ),
        )
        setattr(
            BadgeForm,
            f"image_alt_{language}",
            StringField(
                _l("Alt text of the image"),
                validators=[Optional(), Length(max=300)],
                render_kw=attrs,
                description=_l(
                    "Describe the image for people who cannot see it, e.g. “Green round badge: Working safely”."
                ),
            ),
        )
        setattr(
            BadgeForm,
            f"evidence_guidance_{language}",
            TextAreaField(
                _l("Evidence guidance for coaches (optional)"),
                validators=[Optional(), Length(max=2000)],
                render_kw={**attrs, "rows": "2"},
                description=_l(
                    "How the skill can be shown, e.g. a photo of the work or an observation note."
                ),
            ),
        )


_text_fields()


# --- helpers ----------------------------------------------------------------------------------


def _language() -> str:
    locale = str(get_locale() or "fi")
    return locale if locale in LANGUAGES else "fi"


def _picker(language: str):  # noqa: ANN202 - a template helper
    """Return ``pick(texts) -> (text, its language)``: the reader's language, else Finnish."""

    def pick(texts: dict[str, str]) -> tuple[str, str]:
        chosen = (
            language
            if texts.get(language)
            else ("fi" if texts.get("fi") else next(iter(texts), "fi"))
        )
        return text_in(texts, chosen), chosen

    return pick


def _is_admin() -> bool:
    return "admin" in (g.get("roles") or ())


def _url_or_none(endpoint: str) -> str | None:
    """Return the URL of another blueprint's page, or None when the app does not have it."""
    try:
        return url_for(endpoint)
    except BuildError:
        return None


def _wording(form: BadgeForm) -> dict[str, list[Finding]]:
    """Return the wording findings per form field name."""
    findings: dict[str, list[Finding]] = {}
    for language in LANGUAGES:
        for key in ("name", "description", "criteria", "evidence_guidance"):
            found = check_wording(form.text_field(language, key).data or "", language)
            if found:
                findings[f"{key}_{language}"] = found
    found = check_wording(form.plain_fi.data or "", "fi")
    if found:
        findings["plain_fi"] = found
    return findings


def _uploaded_image(form: BadgeForm) -> bytes | None:
    """Return the cleaned upload (or the image kept from a preview), adding field errors on bad input."""
    upload = form.image.data
    data = None
    if isinstance(upload, FileStorage) and upload.filename:
        data = upload.read()
    elif form.image_kept.data and not form.discard_image.data:
        kept = form.image_kept.data
        try:
            data = base64.b64decode(kept, validate=True) if len(kept) <= MAX_KEPT_IMAGE else b""
        except (binascii.Error, ValueError):
            data = b""
    if data is None:
        form.image_kept.data = ""
        return None
    try:
        # Also a kept image goes through the cleaner again: the hidden field came from the browser.
        return clean_image(data, purpose="badge").data
    except ImageUploadError as error:
        form.image.errors.append(message_for(error))
        form.image_kept.data = ""
        return None


def _render_form(
    form: BadgeForm,
    *,
    achievement: Achievement | None,
    image: bytes | None,
    findings: dict[str, list[Finding]],
    previewing: bool,
    status: int,
) -> tuple[str, int]:
    organisation = g.organisation
    language = form.language
    if image is not None:
        form.image_kept.data = base64.b64encode(image).decode("ascii")
    preview_image = None
    if image is not None:
        preview_image = "data:image/png;base64," + form.image_kept.data
    elif achievement is not None and not form.colour.data:
        preview_image = url_for("public.achievement_image", public_id=achievement.current.public_id)
    preview = {
        "name": (form.text_field(language, "name").data or "").strip(),
        "description": (form.text_field(language, "description").data or "").strip(),
        "alt": (form.text_field(language, "image_alt").data or "").strip(),
        "image": preview_image
        or url_for(
            "library.badge_preview_image",
            slug=organisation.slug,
            name=(form.text_field(language, "name").data or "")[:200],
            colour=form.colour.data or "",
        ),
        # "upload": the uploaded image is saved whatever colour is chosen; "current": the image
        # stays unless a colour is chosen; "": the preview follows the name and the colour.
        "fixed_image": "upload" if image is not None else ("current" if preview_image else ""),
    }
    return render_template(
        "library/badge_form.html",
        organisation=organisation,
        form=form,
        achievement=achievement,
        findings=findings,
        preview=preview,
        previewing=previewing,
        language_names=LANGUAGE_NAMES,
        search_url=_url_or_none("frameworks.search_json"),
        browse_url=_url_or_none("frameworks.qualification_list"),
        has_image=image is not None,
    ), status


def _handle_form(form: BadgeForm, achievement: Achievement | None):  # noqa: ANN202 - Flask response
    """Validate, preview or save the badge form (shared by create and edit)."""
    if request.method != "POST":
        return _render_form(
            form, achievement=achievement, image=None, findings={}, previewing=False, status=200
        )
    previewing = request.form.get("action") == "preview"
    valid = form.validate_on_submit()
    image = _uploaded_image(form)
    valid = valid and not form.image.errors
    findings = _wording(form)
    if valid and not previewing and findings and not form.wording_confirmed.data:
        form.wording_confirmed.errors.append(
            _(
                "Some words may describe a deficit or a diagnosis (marked below). Change them, or tick this box to save anyway."
            )
        )
        valid = False
    if valid and not previewing:
        db = get_session()
        try:
            if achievement is None:
                saved = library.create_own(
                    db, g.organisation, form.draft(image), now=utcnow(), actor=me()
                )
            else:
                library.edit(db, achievement, form.draft(image), now=utcnow(), actor=me())
                saved = achievement
        except library.UnknownAlignmentError as error:
            db.rollback()
            form.alignments.errors.append(
                _(
                    "Not found in the imported frameworks: %(codes)s. Check the codes or search the frameworks.",
                    codes=", ".join(error.codes),
                )
            )
        except library.TooManyAlignmentsError as error:
            db.rollback()
            form.alignments.errors.append(message_for(error))
        else:
            db.commit()
            if achievement is None:
                flash(_("The badge was created."), "success")
            else:
                flash(
                    _(
                        "The badge was saved as version %(number)d. Badges awarded earlier keep their version.",
                        number=saved.current.number,
                    ),
                    "success",
                )
            return redirect(
                url_for("library.badge_detail", slug=g.organisation.slug, public_id=saved.public_id)
            )
    status = 200 if previewing and valid else 400
    return _render_form(
        form,
        achievement=achievement,
        image=image,
        findings=findings,
        previewing=previewing and valid,
        status=status,
    )


# --- library ----------------------------------------------------------------------------------


@bp.get("/")
@staff_required()
def index(slug: str):  # noqa: ANN201 - Flask response
    """List the organisation's badges: current ones first, retired ones in their own section."""
    entries = library.library_of(get_session(), g.organisation)
    return render_template(
        "library/index.html",
        organisation=g.organisation,
        is_admin=_is_admin(),
        current=[e for e in entries if e.achievement.retired_at is None],
        retired=[e for e in entries if e.achievement.retired_at is not None],
    )


@bp.get("/catalogue")
@staff_required()
def catalogue(slug: str):  # noqa: ANN201 - Flask response
    """Browse the shared catalogues; admins adopt definitions into the library."""
    files = library.catalogue_files()
    return render_template(
        "library/catalogue.html",
        organisation=g.organisation,
        is_admin=_is_admin(),
        catalogues=[f.catalogue for f in files if f.catalogue is not None],
        broken=[f for f in files if f.catalogue is None],
        adopted=library.adopted(get_session(), g.organisation),
        pick=_picker(_language()),
        form=ConfirmForm(formdata=None),
    )


@bp.post("/catalogue/<catalogue_id>/<definition_id>/adopt")
@staff_required("admin")
def catalogue_adopt(slug: str, catalogue_id: str, definition_id: str):  # noqa: ANN201 - Flask response
    """Adopt one catalogue definition as the organisation's badge."""
    if not ConfirmForm().validate_on_submit():
        flash(_("The form expired. Reload the page and try again."), "error")
        return redirect(url_for("library.catalogue", slug=slug))
    db = get_session()
    try:
        achievement = library.adopt(
            db, g.organisation, catalogue_id, definition_id, now=utcnow(), actor=me()
        )
    except library.AlreadyAdoptedError as error:
        db.rollback()
        flash(message_for(error), "error")
        return redirect(url_for("library.catalogue", slug=slug))
    db.commit()
    flash(
        _("The badge “%(name)s” was added to your library.", name=achievement.current.name),
        "success",
    )
    return redirect(url_for("library.badge_detail", slug=slug, public_id=achievement.public_id))


@bp.route("/new", methods=["GET", "POST"])
@staff_required("admin")
def badge_create(slug: str):  # noqa: ANN201 - Flask response
    """Create the organisation's own badge, with a live preview."""
    return _handle_form(BadgeForm(language=g.organisation.language), None)


@bp.get("/preview.png")
@staff_required("admin")
def badge_preview_image(slug: str) -> Response:
    """Return the default image for a name and a colour (the editor's live preview)."""
    png = library.preview_png(request.args.get("name", "")[:200], request.args.get("colour"))
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@bp.get("/<public_id>")
@staff_required()
def badge_detail(slug: str, public_id: str):  # noqa: ANN201 - Flask response
    """Show a badge: its current texts, every version with its awards, and the actions."""
    achievement = owned_or_404(Achievement, public_id, g.organisation)
    counts = library.version_award_counts(get_session(), achievement)
    return render_template(
        "library/badge_detail.html",
        organisation=g.organisation,
        achievement=achievement,
        version=achievement.current,
        versions=list(reversed(achievement.versions)),
        counts=counts,
        total_awards=sum(counts.values()),
        is_admin=_is_admin(),
        form=ConfirmForm(formdata=None),
        language_names=LANGUAGE_NAMES,
    )


def _prefill(version: AchievementVersion) -> dict[str, Any]:
    data: dict[str, Any] = {
        f"name_{version.language}": version.name,
        f"description_{version.language}": version.description,
        f"criteria_{version.language}": version.criteria_narrative,
        f"image_alt_{version.language}": version.image_alt,
        f"evidence_guidance_{version.language}": version.evidence_guidance or "",
        "plain_fi": version.plain_description or "",
        "valid_days": version.valid_days,
        "alignments": "\n".join(a["targetCode"] for a in version.alignments if a.get("targetCode")),
        "colour": "",
    }
    for language, texts in (version.translations or {}).items():
        if language in LANGUAGES and language != version.language:
            data.update({f"{key}_{language}": texts.get(key, "") for key in TEXT_FIELDS})
    return data


@bp.route("/<public_id>/edit", methods=["GET", "POST"])
@staff_required("admin")
def badge_edit(slug: str, public_id: str):  # noqa: ANN201 - Flask response
    """Edit a badge: saving makes a new version; earlier awards keep theirs."""
    achievement = owned_or_404(Achievement, public_id, g.organisation)
    language = achievement.current.language
    if request.method == "POST":
        form = BadgeForm(language=language, editing=True)
    else:
        form = BadgeForm(
            formdata=None, data=_prefill(achievement.current), language=language, editing=True
        )
    return _handle_form(form, achievement)


@bp.post("/<public_id>/retire")
@staff_required("admin")
def badge_retire(slug: str, public_id: str):  # noqa: ANN201 - Flask response
    """Retire a badge: it issues nothing new; awarded badges stay valid."""
    achievement = owned_or_404(Achievement, public_id, g.organisation)
    if ConfirmForm().validate_on_submit():
        db = get_session()
        library.retire(db, achievement, now=utcnow(), actor=me())
        db.commit()
        flash(_("The badge was retired. Badges awarded earlier stay valid."), "success")
    return redirect(url_for("library.badge_detail", slug=slug, public_id=public_id))


@bp.post("/<public_id>/unretire")
@staff_required("admin")
def badge_unretire(slug: str, public_id: str):  # noqa: ANN201 - Flask response
    """Bring a retired badge back into use."""
    achievement = owned_or_404(Achievement, public_id, g.organisation)
    if ConfirmForm().validate_on_submit():
        db = get_session()
        library.unretire(db, achievement, now=utcnow(), actor=me())
        db.commit()
        flash(_("The badge is in use again."), "success")
    return redirect(url_for("library.badge_detail", slug=slug, public_id=public_id))
