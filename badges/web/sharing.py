"""Blueprint ``sharing``: a client's shares, the public share page and the network's view.

Client pages (``/passport/shares…``) show and change only the signed-in person's own shares;
another person's share is a 404. The share page ``/s/<token>`` needs no account; an unknown,
expired or revoked link gets one and the same neutral page with status 404. Professionals
(``/network…``) see the shares made to their account while the shares live.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

import segno
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask import session as cookie
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length

from badges import people, sharing
from badges.core.eperusteet import pick_text
from badges.db import get_session
from badges.models import AchievementVersion, Qualification, Share
from badges.services import InvalidInputError
from badges.sharing import SharingError
from badges.web import current_site, utcnow
from badges.web.access import me
from badges.web.auth import password_field, start_session
from badges.web.limits import per_address
from badges.web.messages import message_for, register

bp = Blueprint("sharing", __name__)

#: Where the new link waits (in the signed session cookie) for the one page that shows it.
PENDING_LINK = "sharing.new_link"

register({
    "share_scope": _l("Choose what you share."),
    "share_no_professional": _l("No professional account has this e-mail address. Check the address, "
                                "or write the recipient's name and share a link instead."),
    "share_self": _l("You cannot share with yourself."),
    "share_recipient_missing": _l("Write with whom you share."),
    "share_recipient_too_long": _l("Use at most 200 characters."),
    "share_purpose_missing": _l("Write why you share."),
    "share_purpose_too_long": _l("Use at most 500 characters."),
    "share_expiry_past": _l("The last day cannot be in the past."),
    "share_expiry_too_late": _l("A share can last at most one year. Choose an earlier day."),
    "share_no_badges": _l("Choose at least one badge."),
    "share_unknown_badge": _l("A chosen badge is not available. Choose again."),
    "share_no_qualification": _l("Choose a qualification."),
    "share_bad_email": _l("Check the e-mail address, e.g. name@example.fi."),
    "professional_name": _l("Write your name (at most 200 characters)."),
    "professional_organisation": _l("Write where you work (at most 200 characters)."),
    "professional_email_taken": _l("This e-mail address already has an account. Log in instead."),
})

#: Which form field shows a service error with this code.
_ERROR_FIELDS = {
    "share_scope": "scope",
    "share_no_professional": "professional_email",
    "share_self": "professional_email",
    "share_recipient_missing": "recipient_label",
    "share_recipient_too_long": "recipient_label",
    "share_purpose_missing": "purpose",
    "share_purpose_too_long": "purpose",
    "share_expiry_past": "expires_on",
    "share_expiry_too_late": "expires_on",
    "share_no_badges": "awards",
    "share_unknown_badge": "awards",
    "share_no_qualification": "qualification",
    "share_bad_email": "email",
    "professional_name": "display_name",
    "professional_organisation": "organisation",
    "professional_email_taken": "email",
}


def status_label(status: str) -> str:
    """Return the translated name of a share's status."""
    return {"active": _("Active"), "expired": _("Expired"), "revoked": _("Revoked")}.get(status, status)


def device_label(device: str) -> str:
    """Return the translated name of a device kind."""
    return {"phone": _("Phone"), "tablet": _("Tablet"), "computer": _("Computer")}.get(device, _("Other device"))


def via_label(via: str) -> str:
    """Return how a share was opened, in words."""
    return _("With the professional's account") if via == "account" else _("With the link")


def qualification_name(qualification: Qualification | None) -> str:
    """Return a qualification's name in the reader's language."""
    if qualification is None:
        return ""
    return pick_text(qualification.names, str(get_locale()))[0] or qualification.source_id


def scope_summary(share: Share) -> str:
    """Say in words what a share contains."""
    if share.scope == "passport":
        what = _("Whole passport")
    elif share.scope == "qualification":
        what = _("Badges of the qualification %(name)s", name=qualification_name(share.qualification))
    else:
        what = ngettext("%(num)d chosen badge", "%(num)d chosen badges", len(share.awards))
    evidence = _("with evidence") if share.include_evidence else _("without evidence")
    return f"{what}, {evidence}"


def badge_texts(version: AchievementVersion) -> dict[str, str]:
    """Return a badge's name, criteria and alt text in the reader's language when it has them."""
    language = str(get_locale())
    texts = {"name": version.name, "criteria": version.criteria_narrative, "image_alt": version.image_alt,
             "lang": version.language}
    translated = (version.translations or {}).get(language) if language != version.language else None
    if isinstance(translated, dict) and translated.get("name"):
        texts = {
            "name": translated["name"],
            "criteria": translated.get("criteria") or version.criteria_narrative,
            "image_alt": translated.get("image_alt") or version.image_alt,
            "lang": language,
        }
    return texts


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    return {
        "share_status_label": status_label, "device_label": device_label, "via_label": via_label,
        "share_scope_summary": scope_summary, "badge_texts": badge_texts,
    }


# --- forms -----------------------------------------------------------------------------------------


class ShareForm(FlaskForm):
    """What, with whom, why and until when."""

    scope = RadioField(_l("What do you share?"), default="passport", choices=[
        SelectChoice("passport", _l("My whole passport")),
        SelectChoice("qualification", _l("The badges of one qualification")),
        SelectChoice("badges", _l("Badges I choose")),
    ], validators=[InputRequired(message=_l("Choose what you share."))])
    qualification = SelectField(_l("Qualification"), choices=[], validate_choice=False)
    awards = SelectMultipleField(_l("Badges"), choices=[], validate_choice=False)
    include_evidence = BooleanField(
        _l("Include the evidence (your coach's notes and photos)"),
        description=_l("Evidence you have hidden is never shown."),
    )
    recipient_kind = RadioField(_l("With whom?"), default="name", choices=[
        SelectChoice("name", _l("I write the name of the person or organisation")),
        SelectChoice("account", _l("A professional who has an account here")),
    ], validators=[InputRequired(message=_l("Choose with whom you share."))])
    recipient_label = StringField(
        _l("Name of the recipient"), validators=[Length(max=sharing.MAX_RECIPIENT)],
        description=_l('For example "Employment services, Ms N" or "Employer: Oy X".'),
    )
    professional_email = StringField(
        _l("The professional's e-mail address"), validators=[Length(max=320)],
        description=_l("Write the whole address exactly as the professional gave it to you."),
    )
    purpose = TextAreaField(
        _l("Why do you share?"), validators=[DataRequired(message=_l("Write why you share.")),
                                             Length(max=sharing.MAX_PURPOSE)],
        description=_l('For example "for planning my next step". At most 500 characters.'),
    )
    expires_on = DateField(
        _l("Last day the link works"), format=["%Y-%m-%d", "%d.%m.%Y"],
        invalid_value_message=_l("Give a date, for example 30.6.2026."),
        validators=[InputRequired(message=_l("Give a date, for example 30.6.2026."))],
        description=_l("At most one year from today. You can stop the share earlier at any time."),
    )

    def validate_qualification(self, field: SelectField) -> None:
        """Require a qualification that was offered, when sharing one qualification's badges."""
        if self.scope.data != "qualification":
            return
        if not field.data or field.data not in {choice.value for choice in field.choices}:
            raise ValidationError(_("Choose a qualification."))

    def validate_awards(self, field: SelectMultipleField) -> None:
        """Require chosen badges that were offered (the client's own valid badges)."""
        if self.scope.data != "badges":
            return
        if not field.data:
            raise ValidationError(_("Choose at least one badge."))
        offered = {choice.value for choice in field.choices}
        if any(value not in offered for value in field.data):
            raise ValidationError(_("A chosen badge is not available. Choose again."))

    def validate_recipient_label(self, field: StringField) -> None:
        """Require a name when sharing with a link."""
        if self.recipient_kind.data == "name" and not (field.data or "").strip():
            raise ValidationError(_("Write with whom you share."))

    def validate_professional_email(self, field: StringField) -> None:
        """Require an address when sharing with a professional's account."""
        if self.recipient_kind.data == "account" and not (field.data or "").strip():
            raise ValidationError(_("Write the professional's e-mail address."))


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token: a button that changes something."""


class RegisterForm(FlaskForm):
    """A network professional's new account."""

    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    email = StringField(
        _l("Work e-mail address"), validators=[DataRequired(), Length(max=320)],
        description=_l("Clients type this address to share with you, so give the one you give them."),
    )
    organisation = StringField(
        _l("Where you work"), validators=[DataRequired(), Length(max=sharing.MAX_ORGANISATION)],
        description=_l('For example "TE-palvelut Oulu" or "Kela, Tampere". Clients see this.'),
    )
    password = password_field(_l("Password"))
    confirm = PasswordField(_l("Password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The passwords are not the same.")),
    ])


def _show_error(form: FlaskForm, error: SharingError) -> None:
    name = _ERROR_FIELDS.get(error.code)
    target = getattr(form, name, None) if name else None
    if target is None:
        flash(message_for(error), "error")
        return
    if not isinstance(target.errors, list):
        target.errors = list(target.errors)
    target.errors.append(message_for(error))


# --- responses ------------------------------------------------------------------------------------------


def _private(response: Response) -> Response:
    """Keep a share's content out of search engines and caches."""
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    response.headers["Cache-Control"] = "no-store"
    return response


def _invalid() -> Response:
    """One neutral page for unknown, expired and revoked links alike (status 404 for all three)."""
    response = Response(render_template("sharing/invalid.html"), status=404)
    return _private(response)


def _share_page(share: Share, *, photo_url: Callable[[str], str], now: datetime, preview: bool = False) -> Response:
    db = get_session()
    items = sharing.share_contents(db, current_site(), share, now=now)
    db.commit()  # keeps the proof checks of awards from before ``verified_at`` (see sharing.proof_verified)
    return _private(Response(render_template(
        "sharing/share.html", share=share, items=items, photo_url=photo_url, now=now, preview=preview,
        qualification=qualification_name(share.qualification),
    )))


def _photo(share: Share | None, evidence_id: str, now: datetime) -> Response:
    photo = sharing.shared_photo(get_session(), current_site(), share, evidence_id, now=now) if share else None
    if photo is None:
        abort(404)
    response = Response(photo.content, mimetype=photo.mimetype)
    response.headers["Content-Disposition"] = f'inline; filename="{photo.public_id}.jpg"'
    return _private(response)


def _own_share_or_404(public_id: str) -> Share:
    share = sharing.client_share(get_session(), me(), public_id)
    if share is None:
        abort(404)
    return share


# --- the client's shares -----------------------------------------------------------------------------------


@bp.get("/passport/shares")
@login_required
def index():
    """List the client's shares with their status, recipient, purpose, contents and expiry."""
    shares = sharing.shares_for_client(get_session(), me())
    now = utcnow()
    return render_template("sharing/index.html", shares=shares, now=now,
                           statuses={s.id: sharing.share_status(s, now) for s in shares})


def _qualification_key(qualification: Qualification) -> str:
    return f"{qualification.source}:{qualification.source_id}"


@bp.route("/passport/shares/new", methods=["GET", "POST"])
@login_required
def create():
    """Make a new share: what, with whom, why and until when; the link is shown once after."""
    db = get_session()
    now = utcnow()
    client = me()
    awards = sharing.shareable_awards(db, client, now=now)
    qualifications = {_qualification_key(q): q for q in sharing.qualifications_for_client(db, client, now=now)}
    form = ShareForm()
    form.awards.choices = [SelectChoice(a.public_id, a.achievement_version.name) for a in awards]
    form.qualification.choices = [SelectChoice("", _("Choose a qualification"))] + [
        SelectChoice(key, qualification_name(q)) for key, q in qualifications.items()
    ]
    if request.method == "GET":
        form.expires_on.data = sharing.default_expiry_day(now)
        preselected = request.args.get("badge")
        if preselected in {a.public_id for a in awards}:
            form.scope.data = "badges"
            form.awards.data = [preselected]
    if form.validate_on_submit():
        recipient = None
        if form.recipient_kind.data == "account":
            recipient = sharing.find_professional(db, form.professional_email.data or "")
            if recipient is None:
                form.professional_email.errors.append(message_for(
                    SharingError("share_no_professional", "no professional account has that e-mail address")))
        if not form.errors:
            try:
                share, token = sharing.create_share(
                    db, client=client, scope=form.scope.data or "", purpose=form.purpose.data or "", now=now,
                    recipient_label=form.recipient_label.data if recipient is None else None,
                    recipient_user=recipient, award_ids=form.awards.data or [],
                    qualification=qualifications.get(form.qualification.data or ""),
                    include_evidence=bool(form.include_evidence.data), expires_on=form.expires_on.data,
                )
            except SharingError as error:
                db.rollback()
                _show_error(form, error)
            else:
                db.commit()
                cookie[PENDING_LINK] = {"share": share.public_id, "token": token}
                return redirect(url_for("sharing.created", public_id=share.public_id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "sharing/new.html", form=form, awards=awards, has_qualifications=bool(qualifications),
        today=sharing.finnish_today(now), latest=sharing.latest_expiry_day(now),
    ), status


@bp.get("/passport/shares/<public_id>/created")
@login_required
def created(public_id: str):
    """Show the new link and its QR code, once; afterwards only the share itself is shown."""
    share = _own_share_or_404(public_id)
    pending = cookie.pop(PENDING_LINK, None)
    if not isinstance(pending, dict) or pending.get("share") != share.public_id or not pending.get("token"):
        flash(_("The link is shown only once, right after the share is made. If you need a link again, "
                "make a new share."), "info")
        return redirect(url_for("sharing.detail", public_id=share.public_id))
    link = current_site().url(url_for("sharing.public_share", token=pending["token"]))
    qr_uri = segno.make(link, error="m").svg_data_uri(scale=4, border=2)
    response = Response(render_template("sharing/created.html", share=share, link=link, qr_uri=qr_uri, now=utcnow()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/passport/shares/<public_id>")
@login_required
def detail(public_id: str):
    """Show one share: what, with whom, why, until when, and every time it was opened."""
    share = _own_share_or_404(public_id)
    now = utcnow()
    return render_template(
        "sharing/detail.html", share=share, status=sharing.share_status(share, now), now=now,
        accesses=list(reversed(share.accesses)),
    )


@bp.get("/passport/shares/<public_id>/preview")
@login_required
def preview(public_id: str):
    """Show the client what the recipient of a live share sees now (not logged as an opening)."""
    share = _own_share_or_404(public_id)
    now = utcnow()
    if not sharing.is_live(share, now):
        flash(_("This share has ended. Whoever opens the link sees only that the link is no longer valid."), "info")
        return redirect(url_for("sharing.detail", public_id=share.public_id))
    return _share_page(
        share, now=now, preview=True,
        photo_url=lambda evidence_id: url_for("sharing.preview_evidence", public_id=public_id, evidence_id=evidence_id),
    )


@bp.get("/passport/shares/<public_id>/evidence/<evidence_id>")
@login_required
def preview_evidence(public_id: str, evidence_id: str):
    """Serve an evidence photo of the client's own live share, as its recipient would see it."""
    return _photo(_own_share_or_404(public_id), evidence_id, utcnow())


@bp.route("/passport/shares/<public_id>/revoke", methods=["GET", "POST"])
@login_required
def revoke(public_id: str):
    """Ask for confirmation, then stop the share at once."""
    share = _own_share_or_404(public_id)
    form = ConfirmForm()
    if share.revoked_at is not None:
        flash(_("This share was stopped already."), "info")
        return redirect(url_for("sharing.detail", public_id=share.public_id))
    if form.validate_on_submit():
        db = get_session()
        sharing.revoke_share(db, share, now=utcnow())
        db.commit()
        flash(_("The share is stopped. The link no longer works."), "success")
        return redirect(url_for("sharing.detail", public_id=share.public_id))
    return render_template("sharing/revoke.html", share=share, form=form), 400 if request.method == "POST" else 200


# --- the share page ------------------------------------------------------------------------------------------


@bp.get("/s/<token>")
def public_share(token: str):
    """Show a live share to whoever has the link, and log the opening for the client."""
    db = get_session()
    now = utcnow()
    share = sharing.resolve_token(db, token, now=now)
    if share is None:
        return _invalid()
    is_owner = current_user.is_authenticated and me().id == share.client_id
    # The client's own look at their link is not someone else's access; HEAD shows nothing.
    if not is_owner and request.method == "GET":
        sharing.record_access(db, share, device=sharing.device_kind(request.headers.get("User-Agent")), via="link",
                              now=now)
        db.commit()
    return _share_page(
        share, photo_url=lambda evidence_id: url_for("sharing.public_evidence", token=token, evidence_id=evidence_id),
        now=now,
    )


@bp.get("/s/<token>/evidence/<evidence_id>")
def public_evidence(token: str, evidence_id: str):
    """Serve an evidence photo of a live share that includes evidence; 404 otherwise."""
    now = utcnow()
    return _photo(sharing.resolve_token(get_session(), token, now=now), evidence_id, now)


# --- network professionals ---------------------------------------------------------------------------------


def _professional_or_404():  # noqa: ANN202 - the User row
    user = me()
    if not user.is_professional:
        abort(404)
    return user


@bp.get("/network")
@login_required
def network_index():
    """List the passports shared with the professional's account, while the shares live."""
    user = _professional_or_404()
    now = utcnow()
    response = Response(render_template(
        "sharing/network_index.html", shares=sharing.shares_for_professional(get_session(), user, now=now), now=now,
    ))
    return _private(response)


@bp.get("/network/shares/<public_id>")
@login_required
def network_share(public_id: str):
    """Show a share made to the professional's account and log the opening; 404 once it ended."""
    user = _professional_or_404()
    db = get_session()
    now = utcnow()
    share = sharing.professional_share(db, user, public_id, now=now)
    if share is None:
        return _invalid()
    sharing.record_access(db, share, device=sharing.device_kind(request.headers.get("User-Agent")), via="account",
                          now=now)
    db.commit()
    return _share_page(
        share, now=now,
        photo_url=lambda evidence_id: url_for("sharing.network_evidence", public_id=public_id, evidence_id=evidence_id),
    )


@bp.get("/network/shares/<public_id>/evidence/<evidence_id>")
@login_required
def network_evidence(public_id: str, evidence_id: str):
    """Serve an evidence photo of a live share made to the professional's account."""
    user = _professional_or_404()
    now = utcnow()
    return _photo(sharing.professional_share(get_session(), user, public_id, now=now), evidence_id, now)


@bp.route("/network/register", methods=["GET", "POST"])
@per_address
def register_professional():
    """Create a network professional's account and sign in."""
    if current_user.is_authenticated:
        return redirect(url_for("sharing.network_index" if me().is_professional else "home.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            user = sharing.register_professional(
                db, display_name=form.display_name.data or "", email=form.email.data or "",
                organisation=form.organisation.data or "", password=form.password.data or "", now=utcnow(),
                locale=str(get_locale()),
            )
        except SharingError as error:
            db.rollback()
            _show_error(form, error)
        except InvalidInputError:  # the password rules of badges.people; the form checks them first
            db.rollback()
            form.password.errors.append(_("Use at least %(min)d characters.", min=people.MIN_PASSWORD_LENGTH))
        else:
            db.commit()
            start_session(user)
            flash(_("Your account is ready. Clients can now share their badges with %(email)s.", email=user.email),
                  "success")
            return redirect(url_for("sharing.network_index"))
    status = 400 if request.method == "POST" else 200
    return render_template("sharing/register.html", form=form), status
