"""Blueprint ``applications``: clients apply for badges; coaches review the applications.

Clients (``/passport/applications…``) see and make only their own applications, for badges of
the organisations where they are clients. Coaches and admins (``/org/<slug>/applications…``)
see the applications made to their organisation and award or answer them. Anyone else gets 404.
"""

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage
from wtforms import BooleanField, HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from badges import applications
from badges.applications import ApplicationError, BadgeTexts
from badges.core.images import ImageUploadError
from badges.db import get_session
from badges.models import AchievementVersion, BadgeApplication
from badges.services import NotFoundError
from badges.web import current_site, utcnow
from badges.web.access import me, staff_required
from badges.web.messages import message_for, register

try:  # the wording check is optional: without it the reply form only shows its hint
    from badges.core.wording import check_wording
except ImportError:  # pragma: no cover - present in this code base
    check_wording = None  # type: ignore[assignment]

bp = Blueprint("applications", __name__)

register({
    "application_unknown_badge": _l("That badge is not in the library of your organisation."),
    "application_badge_retired": _l(
        "This badge is no longer in use, so it cannot be applied for. Choose another badge."),
    "application_already_held": _l("You already have this badge. Well done!"),
    "application_open": _l("You have already applied for this badge. A coach will look at your application."),
    "statement_required": _l("Write what you did."),
    "statement_too_long": _l("The text is too long (at most 2,000 characters)."),
    "reply_required": _l("Write an answer to the client."),
    "reply_too_long": _l("The answer is too long (at most 1,000 characters)."),
    "note_too_long": _l("The note is too long (at most 1,000 characters)."),
    "application_decided": _l("This application has been answered already."),
    "application_not_client": _l(
        "The applicant is no longer a client of this organisation, so the badge cannot be awarded."),
    "application_client_holds": _l("The client already has this badge. You can answer the application instead."),
    "application_own": _l("This is your own application. Another coach of your organisation decides it."),
})


def _register_audit_labels() -> None:
    """Give the audit log plain words for this blueprint's actions."""
    try:
        from badges.web.coach import register_actions
    except ImportError:  # pragma: no cover - the audit log page is optional for this blueprint
        return
    register_actions({
        "application.award": _l("Awarded a badge someone applied for"),
        "application.answer": _l("Answered a badge application"),
    })


_register_audit_labels()


# --- forms --------------------------------------------------------------------------------------


def _one_line_end(text: str | None) -> str | None:
    """Count a line break as one character, as the browser's counter does."""
    return applications.clean_text(text) if text is not None else None


class ApplicationForm(FlaskForm):
    """A client's application: the badge (chosen on the previous page), their own words, a photo."""

    badge = HiddenField()
    statement = TextAreaField(
        _l("What did you do?"), filters=[_one_line_end],
        validators=[DataRequired(message=_l("Write what you did.")),
                    Length(max=applications.MAX_STATEMENT,
                           message=_l("The text is too long (at most 2,000 characters)."))],
        description=_l("Tell in your own words what you did and how. For example: “I sawed and sanded three "
                       "shelves and checked that they were straight.” Your text becomes part of the badge, "
                       "so write about your work only."),
    )
    photo = FileField(
        _l("Photo (optional)"),
        description=_l("A photo of your work helps the coach. Location data is removed from the photo."),
    )


class AwardForm(FlaskForm):
    """The coach awards the badge; an optional note of what they saw."""

    note = TextAreaField(
        _l("Your note (optional)"), filters=[_one_line_end],
        validators=[Optional(), Length(max=applications.MAX_NOTE,
                                       message=_l("The note is too long (at most 1,000 characters)."))],
        description=_l("What you saw yourself. The note becomes part of the badge, with the client's own text."),
    )
    note_confirmed = BooleanField(_l("I have checked the wording"))


class AnswerForm(FlaskForm):
    """The coach answers with encouragement and what to show next."""

    reply = TextAreaField(
        _l("Your answer"), filters=[_one_line_end],
        validators=[DataRequired(message=_l("Write an answer to the client.")),
                    Length(max=applications.MAX_REPLY,
                           message=_l("The answer is too long (at most 1,000 characters)."))],
        description=_l("Start with what went well. Then tell what to show next, for example: “Next time, show "
                       "how you …”. Encourage; do not list shortcomings."),
    )
    reply_confirmed = BooleanField(_l("I have checked the wording"))


# --- helpers ---------------------------------------------------------------------------------------


def _locale() -> str:
    return str(get_locale() or "fi")


def _texts() -> Callable[[AchievementVersion], BadgeTexts]:
    """Return a function giving a badge version's texts in the reader's language."""
    locale = _locale()
    return lambda version: applications.badge_texts(version, locale)


def _wording(text: str | None) -> list[Any]:
    """Return deficit or diagnosis words in ``text`` (any of our languages), if the check exists."""
    if check_wording is None or not text:
        return []
    return check_wording(text, None)


def _photo_path(application: BadgeApplication) -> str | None:
    """Return the page path of the application's photo (served by the evidence blueprint)."""
    evidence = application.evidence_file
    return url_for("evidence.evidence", public_id=evidence.public_id) if evidence is not None else None


# --- the client's side -----------------------------------------------------------------------------


@bp.get("/passport/applications")
@login_required
def client_index():
    """Show the client's applications, newest first; viewing marks their decisions read."""
    db = get_session()
    client = me()
    unread = applications.mark_decisions_read(db, client, now=utcnow())
    db.commit()
    fresh = {(note.kind, note.created_at) for note in unread}
    items = applications.applications_of(db, client)
    new_ids = {
        item.id for item in items
        if item.decided_at is not None and (f"application.{item.status}", item.decided_at) in fresh
    }
    return render_template(
        "applications/client_index.html", applications=items, new_ids=new_ids, texts=_texts(),
        can_apply=bool(applications.client_organisations(db, client)),
    )


@bp.get("/passport/applications/<public_id>")
@login_required
def client_detail(public_id: str):
    """Show one of the client's own applications (anyone else's is 404)."""
    db = get_session()
    try:
        application = applications.get_own(db, me(), public_id)
    except NotFoundError:
        abort(404)
    return render_template(
        "applications/client_detail.html", application=application, texts=_texts(),
        photo=_photo_path(application),
    )


def _choose_page():  # noqa: ANN202 - Flask response
    """List the badges of the client's organisations, with what stands in the way of applying."""
    db = get_session()
    client = me()
    badges = applications.applicable_badges(db, client)
    query = (request.args.get("q") or "").strip()[:100]
    texts = _texts()
    if query:
        wanted = query.casefold()
        badges = [
            a for a in badges
            if wanted in texts(a.current).name.casefold() or wanted in a.current.name.casefold()
        ]
    groups: list[tuple[Any, list[Any]]] = []
    for achievement in badges:
        if not groups or groups[-1][0].id != achievement.organisation_id:
            groups.append((achievement.organisation, []))
        groups[-1][1].append(achievement)
    return render_template(
        "applications/choose.html", groups=groups, query=query, texts=texts,
        states=applications.badge_states(db, client, badges, now=utcnow()),
        has_organisations=bool(applications.client_organisations(db, client)),
    )


@bp.route("/passport/applications/new", methods=["GET", "POST"])
@login_required
def apply():
    """Choose a badge (``?badge=`` skips the list), tell what you did, add a photo, send."""
    badge_id = request.form.get("badge") if request.method == "POST" else request.args.get("badge")
    if not badge_id:
        if request.method == "POST":
            abort(404)
        return _choose_page()
    db = get_session()
    client = me()
    try:
        achievement = applications.find_badge_for(db, client, badge_id)
    except ApplicationError:
        abort(404)
    form = ApplicationForm()
    if request.method == "GET":
        form.badge.data = achievement.public_id
    state = applications.badge_state(db, client, achievement, now=utcnow())
    status = 200
    if request.method == "POST":
        status = 409 if not state.can_apply else 400
        # With an open application the service still decides: the same text again is a double tap.
        may_send = state.can_apply or (state.pending is not None and state.held is None and not state.retired)
        if may_send and form.validate_on_submit():
            upload = form.photo.data
            data = upload.read() if isinstance(upload, FileStorage) and upload.filename else None
            try:
                applications.submit(
                    db, client=client, badge_id=achievement.public_id, statement=form.statement.data,
                    photo=data, now=utcnow(),
                )
                db.commit()
                flash(_("Thank you! Your application was sent. A coach will look at it and answer you."), "success")
                return redirect(url_for("applications.client_index"))
            except ImageUploadError as error:
                db.rollback()
                form.photo.errors = [message_for(error)]
            except ApplicationError as error:
                db.rollback()
                if error.code.startswith("statement_"):
                    form.statement.errors = [message_for(error)]
                else:
                    status = 409
                    state = applications.badge_state(db, client, achievement, now=utcnow())
        elif state.can_apply and _has_upload(form) and not form.photo.errors:
            # A browser cannot keep a chosen file when the page comes back; say so.
            form.photo.errors = [_("Please choose the photo again.")]
    return render_template(
        "applications/apply.html", achievement=achievement, version=achievement.current,
        texts=_texts()(achievement.current), form=form, state=state,
    ), status


def _has_upload(form: ApplicationForm) -> bool:
    upload = form.photo.data
    return isinstance(upload, FileStorage) and bool(upload.filename)


# --- the coach's side ----------------------------------------------------------------------------------


@bp.get("/org/<slug>/applications")
@staff_required()
def coach_index(slug: str):
    """List the organisation's applications: open ones first (waiting longest first), then decided ones."""
    waiting, decided = applications.organisation_applications(get_session(), g.organisation)
    return render_template(
        "applications/coach_index.html", organisation=g.organisation, waiting=waiting, decided=decided,
        texts=_texts(), decided_limit=applications.DECIDED_LIMIT,
    )


def _org_application_or_404(public_id: str) -> BadgeApplication:
    try:
        return applications.get_for_organisation(get_session(), g.organisation, public_id)
    except NotFoundError:
        abort(404)


def _render_coach_detail(
    application: BadgeApplication, *, award_form: AwardForm | None = None, answer_form: AnswerForm | None = None,
    note_findings: list[Any] | None = None, reply_findings: list[Any] | None = None, problem: str | None = None,
    status: int = 200,
):  # noqa: ANN202 - Flask response
    db = get_session()
    achievement = application.achievement
    holds = None
    if application.status == applications.SUBMITTED:
        holds = applications.valid_award_of(db, application.client, achievement, now=utcnow())
    return render_template(
        "applications/coach_detail.html", organisation=g.organisation, application=application,
        version=achievement.current, texts=_texts()(achievement.current), photo=_photo_path(application),
        award_form=award_form or AwardForm(formdata=None), answer_form=answer_form or AnswerForm(formdata=None),
        statement_findings=_wording(application.statement), note_findings=note_findings or [],
        reply_findings=reply_findings or [], decided_by=applications.decided_by(db, application),
        holds=holds, problem=problem,
    ), status


@bp.get("/org/<slug>/applications/<public_id>")
@staff_required()
def coach_detail(slug: str, public_id: str):
    """Show one application: the client's words and photo beside the badge's criteria; award or answer."""
    return _render_coach_detail(_org_application_or_404(public_id))


@bp.post("/org/<slug>/applications/<public_id>/award")
@staff_required()
def award(slug: str, public_id: str):
    """Award the badge: the client's statement and photo become its evidence (a double click issues once)."""
    application = _org_application_or_404(public_id)
    form = AwardForm()
    if not form.validate_on_submit():
        return _render_coach_detail(application, award_form=form, status=400)
    findings = _wording(form.note.data)
    if findings and not form.note_confirmed.data:
        form.note_confirmed.errors = [_("Some words may describe a shortcoming or a diagnosis (marked above). "
                                        "Change them, or tick this box to award anyway.")]
        return _render_coach_detail(application, award_form=form, note_findings=findings, status=400)
    db = get_session()
    try:
        applications.award(db, current_site(), application, coach=me(), now=utcnow(), note=form.note.data)
        db.commit()
    except ApplicationError as error:
        db.rollback()
        if error.code == "note_too_long":
            form.note.errors = [message_for(error)]
            return _render_coach_detail(application, award_form=form, status=400)
        return _render_coach_detail(application, award_form=form, problem=message_for(error), status=error.status)
    except IntegrityError:  # a simultaneous click made the award first
        db.rollback()
    flash(_("The badge was awarded to %(name)s. They see it in their passport.",
            name=application.client.display_name), "success")
    return redirect(url_for("applications.coach_detail", slug=slug, public_id=public_id))


@bp.post("/org/<slug>/applications/<public_id>/answer")
@staff_required()
def answer(slug: str, public_id: str):
    """Answer with encouragement and what to show next (no badge this time)."""
    application = _org_application_or_404(public_id)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _render_coach_detail(application, answer_form=form, status=400)
    findings = _wording(form.reply.data)
    if findings and not form.reply_confirmed.data:
        form.reply_confirmed.errors = [_("Some words may describe a shortcoming or a diagnosis (marked above). "
                                         "Change them, or tick this box to send anyway.")]
        return _render_coach_detail(application, answer_form=form, reply_findings=findings, status=400)
    db = get_session()
    try:
        applications.answer(db, application, coach=me(), reply=form.reply.data, now=utcnow())
        db.commit()
    except ApplicationError as error:
        db.rollback()
        if error.code.startswith("reply_"):
            form.reply.errors = [message_for(error)]
            return _render_coach_detail(application, answer_form=form, status=400)
        return _render_coach_detail(application, answer_form=form, problem=message_for(error), status=error.status)
    flash(_("Your answer was sent to %(name)s.", name=application.client.display_name), "success")
    return redirect(url_for("applications.coach_detail", slug=slug, public_id=public_id))
