"""Blueprint ``coach``: award (one, a group, a CSV), revoke, jobs and the audit log.

Also ``evidence_bp``: evidence photos at ``/evidence/<public_id>`` (the URL written into
credentials, so it has no organisation prefix).
"""

import csv
import io
import json
import secrets
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.routing import BuildError
from wtforms import (
    BooleanField,
    DateField,
    Field,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from badges import awarding, jobs, services
from badges.awarding import AwardingError, RowProblem
from badges.core.dates import parse_datetime
from badges.core.images import ImageUploadError
from badges.db import get_session
from badges.models import (
    Achievement,
    AchievementVersion,
    AuditEvent,
    Award,
    EvidenceFile,
    Job,
    User,
)
from badges.web import current_site, utcnow
from badges.web.access import me, staff_required
from badges.web.messages import message_for, register

bp = Blueprint("coach", __name__, url_prefix="/org/<slug>")
#: Serves evidence photos at the URL written into credentials; register it beside ``bp``.
evidence_bp = Blueprint("evidence", __name__)

PER_PAGE = 50
#: More clients than this in one award form run as a background job.
DEFAULT_GROUP_JOB_THRESHOLD = 10


@bp.record_once
def _setup(state: Any) -> None:
    jobs.init_app(state.app)


register({
    "no_clients": _l("Choose at least one client."),
    "unknown_client": _l("A chosen person is not a client of this organisation."),
    "unknown_badge": _l("That badge is not in this organisation's library."),
    "unknown_photo": _l("The photo is no longer available. Add it again."),
    "form_expired": _l("The form expired. Start again."),
    "note_too_long": _l("The note is too long (at most 1,000 characters)."),
    "observed_future": _l("The date of observation cannot be in the future."),
    "observed_too_old": _l("The date of observation can be at most a year back."),
    "reason_required": _l("Write the reason for revoking."),
    "reason_too_long": _l("The reason is too long (at most 500 characters)."),
    "job_not_draft": _l("This job was started already."),
    "job_not_failed": _l("Only a stopped job can be continued."),
})

#: Audit actions in plain words. Other parts of the app add theirs with ``register_actions``.
ACTION_LABELS: dict[str, Any] = {
    "award.issue": _l("Awarded a badge"),
    "award.revoke": _l("Revoked a badge"),
    "key.rotate": _l("Renewed the signing key"),
    "job.create": _l("Started a bulk award"),
    "job.retry": _l("Continued a bulk award"),
    "job.done": _l("Bulk award finished"),
    "job.failed": _l("Bulk award stopped"),
    "audit.export": _l("Exported the audit log"),
}


def register_actions(labels: dict[str, Any]) -> None:
    """Add plain-word labels (lazy translated strings) for audit actions."""
    ACTION_LABELS.update(labels)


def action_label(action: str) -> str:
    """Return an audit action in plain words (the code itself if it has no label)."""
    label = ACTION_LABELS.get(action)
    return str(label) if label is not None else action


def link(endpoint: str, fallback: str, **values: Any) -> str:
    """Return ``url_for(endpoint)`` or ``fallback`` while that page does not exist yet."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return fallback


@bp.context_processor
def _workspace() -> dict[str, Any]:
    slug = request.view_args.get("slug") if request.view_args else None
    if not slug:
        return {}
    return {
        "is_admin": "admin" in (g.get("roles") or ()),
        "library_url": link("library.index", f"/org/{slug}/badges/", slug=slug),
        "clients_url": link("people.clients", f"/org/{slug}/clients", slug=slug),
        "action_label": action_label,
    }


# --- forms ----------------------------------------------------------------------------------


class CheckboxListField(SelectMultipleField):
    """Several choices as check boxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class HiddenListField(Field):
    """A list of values carried in repeated hidden inputs of the same name."""

    widget = HiddenInput()

    def process_formdata(self, valuelist: list[str]) -> None:
        """Keep the non-empty values."""
        self.data = [value for value in valuelist if value]

    def _value(self) -> str:
        return ""


def _not_future_or_old(form: FlaskForm, field: DateField) -> None:
    if field.data is None:
        return
    try:
        awarding.check_observed(field.data, today=awarding.finnish_today(utcnow()))
    except AwardingError as error:
        raise ValidationError(message_for(error)) from None


class AwardForm(FlaskForm):
    """Step 1: badge, clients and optional evidence."""

    badge = RadioField(_l("Badge"), choices=[], validators=[InputRequired(message=_l("Choose a badge."))])
    clients = CheckboxListField(
        _l("Clients"), choices=[], validators=[DataRequired(message=_l("Choose at least one client."))]
    )
    note = TextAreaField(
        _l("Note"), validators=[Optional(), Length(max=awarding.MAX_NOTE)],
        description=_l("What did you see? At most 1,000 characters. The note becomes part of the badge."),
    )
    photo = FileField(_l("Photo"), description=_l("Optional. Take a photo of the work; location data is removed."))
    photo_id = HiddenField()
    remove_photo = BooleanField(_l("Remove the photo"))
    observed = DateField(
        _l("Date of observation"), validators=[Optional(), _not_future_or_old],
        description=_l("When you saw the skill. Today or at most a year back."),
    )


class ConfirmForm(FlaskForm):
    """Step 2: the checked request, carried in hidden fields and checked again on confirm."""

    badge = HiddenField()
    clients = HiddenListField()
    note = HiddenField()
    observed = HiddenField()
    photo_id = HiddenField()
    nonce = HiddenField()


class CsvForm(FlaskForm):
    """A CSV file for a bulk award's dry run."""

    file = FileField(_l("CSV file"), description=_l("UTF-8, comma or semicolon separated, with a header row."))


class ReasonForm(FlaskForm):
    """The reason for revoking (shown to the client)."""

    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(message=_l("Write the reason for revoking.")),
                                  Length(max=awarding.MAX_REASON)],
        description=_l("The client sees this reason. Write it plainly and respectfully."),
    )


class ActionForm(FlaskForm):
    """A button that only needs the CSRF token."""


class AwardFilterForm(FlaskForm):
    """Filters of the award list (GET, no CSRF needed)."""

    class Meta:
        csrf = False

    badge = SelectField(_l("Badge"), choices=[], validate_choice=False)
    client = StringField(_l("Client's name"), validators=[Optional(), Length(max=200)])
    status = SelectField(_l("Status"), choices=[], validate_choice=False)
    start = DateField(_l("Issued from"), validators=[Optional()])
    end = DateField(_l("Issued until"), validators=[Optional()])
    mine = BooleanField(_l("Only badges I awarded"))
    job = HiddenField()


class AuditFilterForm(FlaskForm):
    """Filters of the audit log (GET, no CSRF needed)."""

    class Meta:
        csrf = False

    action = SelectField(_l("Action"), choices=[], validate_choice=False)
    actor = SelectField(_l("Person"), choices=[], validate_choice=False)
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("Until"), validators=[Optional()])


# --- helpers ----------------------------------------------------------------------------------


def _page() -> int:
    try:
        return max(1, min(int(request.args.get("page", "1")), 100_000))
    except ValueError:
        return 1


def _paginate(stmt: Any) -> dict[str, Any]:
    db = get_session()
    page = _page()
    total = awarding.count(db, stmt)
    pages = max(1, -(-total // PER_PAGE))
    page = min(page, pages)
    items = list(db.scalars(stmt.limit(PER_PAGE).offset((page - 1) * PER_PAGE)))
    args = {k: v for k, v in request.args.items() if k != "page"}
    values = {**(request.view_args or {}), **args}

    def page_url(number: int) -> str:
        return url_for(request.endpoint or "", **values, page=number)

    return {
        "entries": items, "total": total, "page": page, "pages": pages,
        "prev_url": page_url(page - 1) if page > 1 else None,
        "next_url": page_url(page + 1) if page < pages else None,
    }


def _today() -> date:
    return awarding.finnish_today(utcnow())


def _award_choices(form: AwardForm) -> tuple[list[Any], list[User]]:
    db = get_session()
    badges = awarding.awardable_badges(db, g.organisation)
    clients = awarding.clients_of(db, g.organisation)
    form.badge.choices = [(a.public_id, a.current.name) for a in badges]
    form.clients.choices = [(c.public_id, c.display_name) for c in clients]
    return badges, clients


def _render_award_form(form: AwardForm, *, status: int = 200, photo: EvidenceFile | None = None):  # noqa: ANN202
    badges, clients = _award_choices(form)
    today = _today()
    return render_template(
        "coach/award.html", form=form, badges=badges, clients=clients, photo=photo, organisation=g.organisation,
        today=today, earliest=awarding.year_before(today),
        selected_clients=set(form.clients.data or []),
        badge_query=request.args.get("badge_q", ""), client_query=request.args.get("client_q", ""),
    ), status


def _current_photo(photo_id: str | None) -> EvidenceFile | None:
    if not photo_id:
        return None
    return get_session().scalar(
        select(EvidenceFile).where(
            EvidenceFile.public_id == photo_id, EvidenceFile.organisation_id == g.organisation.id
        )
    )


def _threshold() -> int:
    return int(current_app.config.get("BADGES_GROUP_JOB_THRESHOLD", DEFAULT_GROUP_JOB_THRESHOLD))


def problem_message(problem: RowProblem) -> str:
    """Return one dry-run problem in the reader's language, with its line number."""
    p = problem.params
    code = problem.code
    if code == "csv_not_utf8":
        text = _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")
    elif code == "csv_not_csv":
        text = _("The file is not a readable CSV file (check the quotation marks).")
    elif code == "csv_empty":
        text = _("The file is empty.")
    elif code == "csv_no_rows":
        text = _("The file has a header row but no awards.")
    elif code == "csv_too_many_rows":
        text = _("The file has too many rows (at most %(limit)d). Split it into smaller files.", limit=p["limit"])
    elif code == "csv_missing_column":
        text = _("The header row has no column “%(column)s”.", column=p["column"])
    elif code == "csv_duplicate_column":
        text = _("The header row has the column “%(column)s” twice.", column=p["column"])
    elif code == "empty_row":
        text = _("The row is empty.")
    elif code == "extra_cells":
        text = _("The row has more cells than the header. Put text that contains the separator in quotation marks.")
    elif code == "missing_client":
        text = _("The client is missing.")
    elif code == "unknown_client":
        text = _("No client “%(value)s” in this organisation.", value=p.get("value", ""))
    elif code == "ambiguous_client":
        text = _("Several clients are called “%(value)s”. Use the e-mail address or the client id.",
                 value=p.get("value", ""))
    elif code == "missing_badge":
        text = _("The badge is missing.")
    elif code == "unknown_badge":
        text = _("No badge “%(value)s” in this organisation's library.", value=p.get("value", ""))
    elif code == "ambiguous_badge":
        text = _("Several badges are called “%(value)s”. Use the badge id.", value=p.get("value", ""))
    elif code == "badge_retired":
        text = _("The badge “%(value)s” is retired and cannot be awarded.", value=p.get("value", ""))
    elif code == "bad_date":
        text = _("“%(value)s” is not a date. Write it as 2026-03-02 or 2.3.2026.", value=p.get("value", ""))
    elif code == "observed_future":
        text = _("The date of observation %(value)s is in the future.", value=p.get("value", ""))
    elif code == "observed_too_old":
        text = _("The date of observation %(value)s is more than a year back.", value=p.get("value", ""))
    elif code == "note_too_long":
        text = _("The evidence text is too long (%(length)d characters; at most %(limit)d).",
                 length=p.get("length", 0), limit=p.get("limit", awarding.MAX_NOTE))
    else:
        text = message_for(AwardingError(code, code))
    if problem.line is None:
        return text
    return _("Line %(line)d: %(problem)s", line=problem.line, problem=text)


def _job_or_404(job_id: str) -> Job:
    job = get_session().scalar(select(Job).where(Job.public_id == job_id, Job.organisation_id == g.organisation.id))
    if job is None or job.kind != awarding.JOB_KIND_AWARDS:
        abort(404)
    return job


def _may_manage(job: Job) -> bool:
    return "admin" in g.roles or job.created_by_id == me().id


def _award_or_404(award_id: str) -> Award:
    award = get_session().scalar(
        select(Award).where(Award.public_id == award_id, Award.organisation_id == g.organisation.id)
    )
    if award is None:
        abort(404)
    return award


# --- organisation home ------------------------------------------------------------------------


@bp.get("/")
@staff_required()
def home(slug: str):
    """Show the organisation's workspace: quick actions, latest awards and jobs."""
    db = get_session()
    latest = list(db.scalars(awarding.awards_query(g.organisation, awarding.AwardFilter(), now=utcnow()).limit(10)))
    recent_jobs = list(db.scalars(
        select(Job).where(Job.organisation_id == g.organisation.id, Job.status != awarding.DRAFT)
        .order_by(Job.created_at.desc(), Job.id.desc()).limit(5)
    ))
    return render_template("coach/home.html", organisation=g.organisation, latest=latest, jobs=recent_jobs,
                           now=utcnow())


# --- award: choose, preview, confirm ------------------------------------------------------------


@bp.get("/award")
@staff_required()
def award_form(slug: str):
    """Step 1: choose the badge, the clients and the evidence (preselect with ?client= and ?badge=)."""
    form = AwardForm(formdata=None)
    form.clients.data = request.args.getlist("client")
    form.badge.data = request.args.get("badge") or None
    form.observed.data = _today()
    return _render_award_form(form)


@bp.post("/award")
@staff_required()
def award_preview(slug: str):
    """Step 2: check the choices, keep the photo, and show what the client will receive."""
    db = get_session()
    form = AwardForm()
    _award_choices(form)
    photo = _current_photo(form.photo_id.data)
    if request.form.get("step") == "edit":  # back from the preview: show the choices again
        form.observed.data = form.observed.data or _today()
        return _render_award_form(form, photo=photo)
    if not form.validate_on_submit():
        return _render_award_form(form, status=400, photo=photo)
    previous = None if form.remove_photo.data else photo
    photo = previous
    try:
        clients = awarding.find_clients(db, g.organisation, form.clients.data or [])
        upload = form.photo.data
        if upload is not None and getattr(upload, "filename", ""):
            photo = awarding.store_photo(db, g.organisation, subject=clients[0], uploaded_by=me(),
                                         data=upload.read(), now=utcnow())
        elif photo is not None:
            awarding.adopt_photo(db, photo, clients, uploader=me())
        plan = awarding.plan_award(
            db, g.organisation, badge_id=form.badge.data, client_ids=form.clients.data or [],
            note=form.note.data, observed=form.observed.data, photo_id=photo.public_id if photo else None,
            today=_today(),
        )
    except ImageUploadError as error:
        db.rollback()
        form.photo.errors = [message_for(error)]
        return _render_award_form(form, status=400, photo=previous)
    except AwardingError as error:
        db.rollback()
        flash(message_for(error), "error")
        return _render_award_form(form, status=400, photo=previous)
    db.commit()  # the photo is stored now, so the confirm step carries only its id
    confirm = ConfirmForm(formdata=None)
    confirm.badge.data = plan.achievement.public_id
    confirm.clients.data = [c.public_id for c in plan.clients]
    confirm.note.data = plan.note or ""
    confirm.observed.data = plan.observed.isoformat() if plan.observed else ""
    confirm.photo_id.data = plan.photo.public_id if plan.photo else ""
    confirm.nonce.data = secrets.token_urlsafe(16)
    return render_template("coach/award_preview.html", plan=plan, form=confirm, organisation=g.organisation,
                           as_job=len(plan.clients) > _threshold())


@bp.post("/award/confirm")
@staff_required()
def award_confirm(slug: str):
    """Step 3: check everything again and issue (once, even if the button is pressed twice)."""
    db = get_session()
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        nonce = awarding.check_nonce(form.nonce.data)
        observed = date.fromisoformat(form.observed.data) if form.observed.data else None
    except (AwardingError, ValueError):
        flash(_("The form expired. Start again."), "error")
        return redirect(url_for("coach.award_form", slug=slug))
    try:
        plan = awarding.plan_award(
            db, g.organisation, badge_id=form.badge.data or "", client_ids=form.clients.data or [],
            note=form.note.data, observed=observed, photo_id=form.photo_id.data or None, today=_today(),
        )
    except AwardingError as error:
        db.rollback()
        flash(message_for(error), "error")
        return redirect(url_for("coach.award_form", slug=slug))
    if len(plan.clients) > _threshold():
        return _confirm_as_job(plan, nonce)
    try:
        awarding.award_plan(db, current_site(), g.organisation, plan, nonce=nonce, issued_by=me(), now=utcnow())
        db.commit()
    except IntegrityError:
        # The same confirm arrived twice at once; the other request issued the awards.
        db.rollback()
    except AwardingError as error:
        db.rollback()
        flash(message_for(error), "error")
        return redirect(url_for("coach.award_form", slug=slug))
    count = len(plan.clients)
    flash(ngettext("The badge was awarded.", "The badge was awarded to %(num)d clients.", count), "success")
    return redirect(url_for("coach.award_done", slug=slug, nonce=nonce))


def _confirm_as_job(plan: awarding.AwardPlan, nonce: str):  # noqa: ANN202 - Flask response
    db = get_session()
    public_id = awarding.group_job_id(g.organisation, nonce)
    job = db.scalar(select(Job).where(Job.public_id == public_id))
    if job is None:
        try:
            job = awarding.create_job(db, g.organisation, rows=awarding.plan_rows(plan, nonce=nonce),
                                      created_by=me(), now=utcnow(), source="group", public_id=public_id)
            db.commit()
        except IntegrityError:
            db.rollback()  # a double submit created it a moment ago
            return redirect(url_for("coach.job", slug=g.organisation.slug, job_id=public_id))
        jobs.enqueue(current_app._get_current_object(), job)  # type: ignore[attr-defined]
    return redirect(url_for("coach.job", slug=g.organisation.slug, job_id=public_id))


@bp.get("/award/done/<nonce>")
@staff_required()
def award_done(slug: str, nonce: str):
    """Show the awards a confirmed form made, with links to the credentials."""
    try:
        awards = awarding.awards_of_form(get_session(), g.organisation, nonce)
    except AwardingError:
        abort(404)
    if not awards:
        abort(404)
    return render_template("coach/award_done.html", awards=awards, organisation=g.organisation, now=utcnow())


# --- bulk award -----------------------------------------------------------------------------------


@bp.route("/bulk", methods=["GET", "POST"])
@staff_required()
def bulk(slug: str):
    """Upload a CSV of awards for a dry run; a clean file becomes a job that waits for a start."""
    form = CsvForm()
    report = None
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            form.file.errors = [_("Choose a CSV file.")]
            status = 400
        else:
            db = get_session()
            report = awarding.check_award_csv(db, g.organisation, upload.read(), today=_today())
            if report.ok:
                job = awarding.create_job(db, g.organisation, rows=report.rows, created_by=me(), now=utcnow(),
                                          source="csv", status=awarding.DRAFT)
                db.commit()
                return redirect(url_for("coach.job", slug=slug, job_id=job.public_id))
            status = 400
    elif request.method == "POST":
        status = 400
    problems = [problem_message(p) for p in report.problems] if report else []
    db = get_session()
    return render_template("coach/bulk.html", form=form, report=report, problems=problems,
                           organisation=g.organisation, badges=awarding.awardable_badges(db, g.organisation),
                           clients=awarding.clients_of(db, g.organisation)), status


@bp.get("/bulk/template.csv")
@staff_required()
def bulk_template(slug: str):
    """Download an example CSV with the right header row."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["client", "badge", "evidence", "observed"])
    today = _today()
    writer.writerow(["maija@example.fi", "Puumateriaalien tunnistaminen", "Tunnisti viisi puulajia.",
                     f"{today.day}.{today.month}.{today.year}"])
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="awards.csv"'
    return response


# --- jobs -------------------------------------------------------------------------------------------


def job_error(job: Job) -> str | None:
    """Return why a job stopped, in the reader's language (None unless it failed)."""
    if job.status != "failed":
        return None
    failure = job.payload.get("failure") or {}
    code = failure.get("code", "internal")
    if code in ("internal", "integrity", "unknown_kind"):
        text = _("An unexpected error stopped the work. The rows before it are complete; nothing is half-done.")
    else:
        text = message_for(AwardingError(code, code))
    line = failure.get("line")
    return _("Line %(line)d: %(problem)s", line=line, problem=text) if isinstance(line, int) else text


def _job_state(job: Job) -> dict[str, Any]:
    return {
        "id": job.public_id, "status": job.status, "done": job.done, "total": job.total,
        "finished": job.status in ("done", "failed"),
        "error": job_error(job),
        "text": _("%(done)d of %(total)d", done=job.done, total=job.total),
    }


@bp.get("/jobs/<job_id>")
@staff_required()
def job(slug: str, job_id: str):
    """Show a bulk job: the rows waiting for a start, or the progress and the outcome."""
    job = _job_or_404(job_id)
    db = get_session()
    rows = []
    if job.status == awarding.DRAFT:
        shown = job.payload.get("rows", [])[:100]
        clients = {c.public_id: c.display_name for c in awarding.clients_of(db, g.organisation)}
        names = dict(db.execute(
            select(AchievementVersion.public_id, AchievementVersion.name)
            .where(AchievementVersion.public_id.in_({row["version"] for row in shown}))
        ).all())
        rows = [{**row, "client_name": clients.get(row["client"], "–"), "badge_name": names.get(row["version"], "–")}
                for row in shown]
    issued = awarding.count(db, awarding.awards_query(g.organisation, awarding.AwardFilter(job=job), now=utcnow()))
    return render_template("coach/job.html", job=job, state=_job_state(job), rows=rows, issued=issued,
                           organisation=g.organisation, may_manage=_may_manage(job), form=ActionForm())


@bp.get("/jobs/<job_id>.json")
@staff_required()
def job_json(slug: str, job_id: str):
    """Return a job's progress for the progress bar."""
    response = current_app.json.response(_job_state(_job_or_404(job_id)))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/jobs/<job_id>/start")
@staff_required()
def job_start(slug: str, job_id: str):
    """Start a draft job after checking its rows again."""
    job = _job_or_404(job_id)
    if not _may_manage(job):
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    problems = awarding.start_job(db, g.organisation, job, actor=me(), now=utcnow())
    if problems:
        db.rollback()
        for problem in problems[:20]:
            flash(problem_message(problem), "error")
        flash(_("Some rows are no longer valid. Correct the file and upload it again."), "error")
        return redirect(url_for("coach.job", slug=slug, job_id=job_id))
    db.commit()
    jobs.enqueue(current_app._get_current_object(), job)  # type: ignore[attr-defined]
    return redirect(url_for("coach.job", slug=slug, job_id=job_id))


@bp.post("/jobs/<job_id>/discard")
@staff_required()
def job_discard(slug: str, job_id: str):
    """Throw away a draft job."""
    job = _job_or_404(job_id)
    if not _may_manage(job):
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    if job.status != awarding.DRAFT:
        abort(409)
    db = get_session()
    db.delete(job)
    db.commit()
    flash(_("The upload was discarded. Nothing was awarded."), "info")
    return redirect(url_for("coach.bulk", slug=slug))


@bp.post("/jobs/<job_id>/retry")
@staff_required()
def job_retry(slug: str, job_id: str):
    """Continue a stopped job from the row where it stopped."""
    job = _job_or_404(job_id)
    if not _may_manage(job):
        abort(403)
    if not ActionForm().validate_on_submit():
        abort(400)
    db = get_session()
    awarding.retry_job(db, g.organisation, job, actor=me(), now=utcnow())
    db.commit()
    jobs.enqueue(current_app._get_current_object(), job)  # type: ignore[attr-defined]
    return redirect(url_for("coach.job", slug=slug, job_id=job_id))


# --- awards: list, detail, revoke -------------------------------------------------------------------


@bp.get("/awards")
@staff_required()
def awards(slug: str):
    """List the organisation's awards with filters and pages."""
    db = get_session()
    form = AwardFilterForm(request.args)
    badges = sorted(
        (a for a in db.scalars(select(Achievement).where(Achievement.organisation_id == g.organisation.id))
         if a.versions),
        key=lambda a: a.current.name.casefold(),
    )
    form.badge.choices = [("", _("All badges"))] + [(a.public_id, a.current.name) for a in badges]
    form.status.choices = [("", _("All")), ("valid", _("Valid")), ("revoked", _("Revoked")),
                           ("expired", _("Expired"))]
    form.validate()
    job = None
    if form.job.data:
        job = db.scalar(select(Job).where(Job.public_id == form.job.data, Job.organisation_id == g.organisation.id))
    filters = awarding.AwardFilter(
        badge=form.badge.data or None, client=form.client.data or None,
        status=form.status.data if form.status.data in ("valid", "revoked", "expired") else None,
        start=form.start.data if not form.start.errors else None,
        end=form.end.data if not form.end.errors else None,
        issued_by=me().id if form.mine.data else None, job=job,
    )
    page = _paginate(awarding.awards_query(g.organisation, filters, now=utcnow()))
    return render_template("coach/awards.html", form=form, page=page, organisation=g.organisation, now=utcnow(),
                           job=job)


@bp.get("/awards/<award_id>")
@staff_required()
def award_detail(slug: str, award_id: str):
    """Show one award to staff: the credential's content, evidence and status; revoke if allowed."""
    award = _award_or_404(award_id)
    return _render_detail(award, ReasonForm(formdata=None))


def _render_detail(award: Award, form: ReasonForm, status: int = 200):  # noqa: ANN202 - Flask response
    document = json.loads(award.document)
    evidence = [item for item in document.get("evidence", []) if isinstance(item, dict)]
    prefix = current_site().url("/evidence/")
    subject = document.get("credentialSubject")
    observed = subject.get("activityEndDate") if isinstance(subject, dict) else None
    return render_template(
        "coach/award_detail.html", award=award, version=award.achievement_version, evidence=evidence,
        photo_prefix=prefix, observed=parse_datetime(observed),
        may_revoke=awarding.can_revoke(award, me(), g.roles) and award.revoked_at is None,
        form=form, organisation=g.organisation, now=utcnow(),
    ), status


def _revoke_or_render(award: Award):  # noqa: ANN202 - Flask response or None
    if not awarding.can_revoke(award, me(), g.roles):
        abort(403)
    form = ReasonForm()
    db = get_session()
    if form.validate_on_submit():
        try:
            awarding.revoke(db, current_site(), award, reason=form.reason.data or "", actor=me(), now=utcnow())
            db.commit()
            return None
        except AwardingError as error:
            db.rollback()
            form.reason.errors = [message_for(error)]
    return _render_detail(award, form, 400)


@bp.post("/awards/<award_id>/revoke")
@staff_required()
def award_revoke(slug: str, award_id: str):
    """Revoke an award with a reason the client sees (the issuing coach, or an admin)."""
    award = _award_or_404(award_id)
    failed = _revoke_or_render(award)
    if failed is not None:
        return failed
    flash(_("The badge was revoked. The client sees the reason on their page."), "success")
    return redirect(url_for("coach.award_detail", slug=slug, award_id=award_id))


@bp.post("/awards/<award_id>/reissue")
@staff_required()
def award_reissue(slug: str, award_id: str):
    """Correct a mistake: revoke with a reason, then open the award form with the same badge and client."""
    award = _award_or_404(award_id)
    if award.revoked_at is None:
        failed = _revoke_or_render(award)
        if failed is not None:
            return failed
        flash(_("The badge was revoked. Check the details and award it again."), "success")
    achievement = award.achievement_version.achievement
    return redirect(url_for("coach.award_form", slug=slug, client=award.recipient.public_id,
                            badge=achievement.public_id))


# --- audit log --------------------------------------------------------------------------------------


def _audit_filters() -> tuple[AuditFilterForm, awarding.AuditFilter]:
    db = get_session()
    form = AuditFilterForm(request.args)
    actions = sorted(set(awarding.audit_actions(db, g.organisation)) | set(ACTION_LABELS),
                     key=lambda a: action_label(a).casefold())
    form.action.choices = [("", _("All actions"))] + [(a, action_label(a)) for a in actions]
    form.actor.choices = [("", _("Everyone"))] + [
        (u.public_id, u.display_name) for u in awarding.audit_actors(db, g.organisation)
    ]
    form.validate()
    return form, awarding.AuditFilter(
        action=form.action.data or None, actor=form.actor.data or None,
        start=form.start.data if not form.start.errors else None,
        end=form.end.data if not form.end.errors else None,
    )


def _targets(events: list[AuditEvent]) -> dict[str, str]:
    """Return links for the events' targets that are awards or jobs of this organisation."""
    db = get_session()
    ids = {e.target for e in events if e.target}
    links: dict[str, str] = {}
    slug = g.organisation.slug
    for public_id in db.scalars(select(Award.public_id).where(
            Award.public_id.in_(ids), Award.organisation_id == g.organisation.id)):
        links[public_id] = url_for("coach.award_detail", slug=slug, award_id=public_id)
    for public_id in db.scalars(select(Job.public_id).where(
            Job.public_id.in_(ids), Job.organisation_id == g.organisation.id)):
        links[public_id] = url_for("coach.job", slug=slug, job_id=public_id)
    return links


def _actors(events: list[AuditEvent]) -> dict[int, User]:
    ids = {e.actor_id for e in events if e.actor_id}
    return {u.id: u for u in get_session().scalars(select(User).where(User.id.in_(ids)))} if ids else {}


@bp.get("/audit")
@staff_required("admin")
def audit(slug: str):
    """Show the organisation's audit log with filters (admins only)."""
    form, filters = _audit_filters()
    page = _paginate(awarding.audit_query(get_session(), g.organisation, filters))
    return render_template("coach/audit.html", form=form, page=page, organisation=g.organisation,
                           targets=_targets(page["entries"]), actors=_actors(page["entries"]))


def _csv_cell(value: Any) -> str:
    """Return a cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/audit.csv")
@staff_required("admin")
def audit_csv(slug: str):
    """Download the filtered audit log as CSV (times in Finnish time)."""
    db = get_session()
    _form, filters = _audit_filters()
    events = list(db.scalars(awarding.audit_query(db, g.organisation, filters).limit(100_000)))
    actors = _actors(events)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("Time"), _("Person"), _("Action"), _("Action code"), _("Target"), _("Details")])
    for event in events:
        actor = actors.get(event.actor_id) if event.actor_id else None
        writer.writerow([_csv_cell(c) for c in (
            event.at.astimezone(awarding.HELSINKI).isoformat(timespec="seconds"),
            actor.display_name if actor else "", action_label(event.action), event.action, event.target or "",
            json.dumps(event.details or {}, ensure_ascii=False, sort_keys=True),
        )])
    services.record(db, "audit.export", now=utcnow(), actor=me(), organisation=g.organisation,
                    details={"rows": len(events)})
    db.commit()
    response = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="audit-{slug}.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --- evidence photos ------------------------------------------------------------------------------------


@evidence_bp.get("/evidence/<public_id>")
@login_required
def evidence(public_id: str):
    """Serve an evidence photo to the client it is about and to staff of its organisation; 404 to others."""
    db = get_session()
    photo = db.scalar(select(EvidenceFile).where(EvidenceFile.public_id == public_id))
    if photo is None or not awarding.can_see_photo(db, photo, me()):
        abort(404)
    response = Response(photo.content, mimetype=photo.mimetype)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Content-Disposition"] = f'inline; filename="{public_id}.jpg"'
    return response
