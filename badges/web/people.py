"""Blueprint ``people``: organisation profile, members, invitations, keys, clients and activation.

Admin pages (profile, members, keys) and staff pages (clients) check the role and the
organisation on the server through :mod:`badges.web.access`; anyone else gets 404.
"""

from pathlib import Path
from urllib.parse import urlsplit

import segno
from email_validator import EmailNotValidError, validate_email
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
from flask_babel import force_locale, format_date, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from markupsafe import Markup
from wtforms import (
    BooleanField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from badges import outbox, people, services
from badges.core.images import ImageUploadError
from badges.db import get_session
from badges.models import Invitation, Organisation, User
from badges.web import current_site, utcnow
from badges.web.access import client_of_or_404, me, staff_required
from badges.web.auth import password_field, start_session
from badges.web.messages import message_for, register

bp = Blueprint("people", __name__)

#: How many clients one list shows; searching narrows it.
CLIENT_LIST_LIMIT = 200
#: Language names are written in their own language, so everyone finds theirs.
LANGUAGE_NAMES = {"fi": "suomi", "sv": "svenska", "en": "English"}
LANGUAGE_CHOICES = [SelectChoice(code, name, render_kw={"lang": code}) for code, name in LANGUAGE_NAMES.items()]
KIND_CHOICES = [
    SelectChoice("workshop", _l("Workshop")),
    SelectChoice("foundation", _l("Foundation")),
    SelectChoice("education_provider", _l("Education provider")),
]
STAFF_ROLE_CHOICES = [SelectChoice("coach", _l("Coach")), SelectChoice("admin", _l("Administrator"))]

register({
    "last_admin": _l("The organisation needs at least one administrator. Make someone else an "
                     "administrator first."),
    "already_member": _l("This person already works in the organisation. Change their role in the list instead."),
    "already_client": _l("This person is already a client of the organisation."),
    "invalid_link": _l("This link is no longer valid."),
    "activation_staff": _l("This person also works as staff in an organisation, so an activation code "
                           "cannot be made for them. They can log in with their own e-mail address."),
    "mail_failed": _l("The message could not be sent. Nothing was saved. Please try again later."),
})


def role_label(role: str) -> str:
    """Return the translated name of a role."""
    return {"admin": _("Administrator"), "coach": _("Coach"), "client": _("Client")}.get(role, role)


@bp.app_context_processor
def _helpers() -> dict:
    return {"role_label": role_label}


# --- forms --------------------------------------------------------------------------------------


def https_url(form: FlaskForm, field: StringField) -> None:
    """Accept only absolute https:// addresses."""
    value = (field.data or "").strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "https" or not parts.hostname or " " in value:
        raise ValidationError(_("Give an address that starts with https://"))
    field.data = value


def email_address(form: FlaskForm, field: StringField) -> None:
    """Check an e-mail address's form (no DNS look-ups) and store it lower-cased."""
    value = (field.data or "").strip()
    if not value:
        return
    try:
        result = validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        raise ValidationError(_("Check the e-mail address, e.g. name@example.fi.")) from None
    field.data = result.normalized.lower()


class OrganisationForm(FlaskForm):
    """The issuer profile."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    url = StringField(_l("Website"), validators=[Optional(), Length(max=500), https_url],
                      description=_l("Starts with https://"))
    email = StringField(_l("E-mail address"), validators=[Optional(), Length(max=320), email_address])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=2000)])
    language = SelectField(_l("Default language of badge texts"), choices=LANGUAGE_CHOICES)
    kind = SelectField(_l("Kind of organisation"), choices=KIND_CHOICES)


class LogoForm(FlaskForm):
    """A logo image file."""

    logo = FileField(_l("Logo image"), validators=[FileRequired(_l("Choose an image file."))],
                     description=_l("PNG, JPEG, WebP or GIF, at most 10 MB. It is shown on the public issuer page."))


class ConfirmForm(FlaskForm):
    """A form with only its CSRF token: a button that changes something."""


class InviteForm(FlaskForm):
    """Invite a coach or an administrator."""

    email = StringField(_l("E-mail address"), validators=[DataRequired(), Length(max=320), email_address])
    role = SelectField(_l("Role"), choices=STAFF_ROLE_CHOICES)


class RoleForm(FlaskForm):
    """A member's new role."""

    role = SelectField(_l("Role"), choices=STAFF_ROLE_CHOICES)


class RotateKeyForm(FlaskForm):
    """Rotate the signing key, once confirmed."""

    confirm = BooleanField(
        _l("I understand: new badges will be signed with a new key. Badges signed earlier stay valid."),
        validators=[DataRequired(_l("Tick the box to confirm."))],
    )


class ClientForm(FlaskForm):
    """A new client."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = StringField(_l("E-mail address (optional)"), validators=[Optional(), Length(max=320), email_address],
                        description=_l("Leave empty if the person has no e-mail address. They get an "
                                       "activation sheet instead."))
    language = SelectField(_l("Preferred language"), choices=LANGUAGE_CHOICES)


class NewAccountForm(FlaskForm):
    """Name and password for a person accepting an invitation without an account."""

    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)])
    password = password_field(_l("Password"))
    confirm = PasswordField(_l("Password again"), validators=[
        DataRequired(), EqualTo("password", message=_l("The passwords are not the same.")),
    ])


# --- mail -------------------------------------------------------------------------------------


def mail_settings() -> outbox.MailSettings:
    """Return the outbox settings from the app configuration."""
    config = current_app.config

    def setting(name: str, default: object = None) -> object:
        # BADGES_* in an instance config.py; the environment's BADGES_* arrive without prefix.
        value = config.get(f"BADGES_{name}")
        return config.get(name, default) if value in (None, "") else value

    host = setting("SMTP_HOST")
    return outbox.MailSettings(
        mail_from=str(setting("MAIL_FROM") or f"Osaamispassi <noreply@{current_site().host.split(':')[0]}>"),
        outbox_dir=Path(current_app.instance_path) / "outbox",
        smtp_host=str(host) if host else None,
        smtp_port=int(setting("SMTP_PORT", 587)),
        smtp_user=str(setting("SMTP_USER") or "") or None,
        smtp_password=str(setting("SMTP_PASSWORD") or "") or None,
        smtp_starttls=str(setting("SMTP_STARTTLS", "true")).strip().lower() not in ("0", "false", "no", "off"),
    )


def send_invitation(invitation: Invitation, token: str, inviter: User, *, locale: str | None = None) -> None:
    """Mail the one-time link, in ``locale`` or else in the inviter's current language."""
    link = current_site().url(url_for("people.invitation", token=token))
    organisation = invitation.organisation

    def compose() -> tuple[str, str]:
        values = {
            "inviter": inviter.display_name, "organisation": organisation.name, "url": link,
            "date": format_date(invitation.expires_at, "long"),
        }
        if invitation.role == "client":
            subject = _("%(organisation)s would like to add you as a client in Osaamispassi", **values)
            body = "\n\n".join([
                _("Hello,"),
                _("%(inviter)s from %(organisation)s would like to add you as a client in Osaamispassi, so that "
                  "they can award you badges for the skills you show at work. Your badges stay yours: you "
                  "decide who sees them.", **values),
                _("If you agree, open this link. It works once and is valid until %(date)s:", **values),
                link,
                _("If you do not want this, simply ignore this message. Nothing changes without your consent."),
            ])
        else:
            subject = _("Invitation to %(organisation)s in Osaamispassi", **values)
            # One sentence per role: the role word is inflected differently in every language.
            if invitation.role == "admin":
                opening = _("%(inviter)s invited you to join %(organisation)s in Osaamispassi as an "
                            "administrator.", **values)
            else:
                opening = _("%(inviter)s invited you to join %(organisation)s in Osaamispassi as a coach.",
                            **values)
            body = "\n\n".join([
                _("Hello,"),
                opening,
                _("Open this link to accept. It works once and is valid until %(date)s:", **values),
                link,
                _("If you were not expecting this message, you can ignore it."),
            ])
        return subject, body

    if locale:
        with force_locale(locale):
            subject, body = compose()
    else:
        subject, body = compose()
    outbox.send(mail_settings(), to=invitation.email, subject=subject, body=body, now=utcnow())


# --- organisation profile -------------------------------------------------------------------


def _render_settings(profile_form: OrganisationForm | None = None, logo_form: LogoForm | None = None,
                     status: int = 200) -> tuple[str, int]:
    organisation = g.organisation
    return render_template(
        "people/settings.html", organisation=organisation,
        form=profile_form or OrganisationForm(obj=organisation, formdata=None),
        logo_form=logo_form or LogoForm(formdata=None), remove_form=ConfirmForm(formdata=None),
    ), status


@bp.route("/org/<slug>/settings", methods=["GET", "POST"])
@staff_required("admin")
def settings(slug: str):
    """Edit the organisation's public issuer profile."""
    organisation: Organisation = g.organisation
    form = OrganisationForm(obj=organisation)
    if form.validate_on_submit():
        db = get_session()
        changed = people.update_organisation(
            db, organisation, name=form.name.data or "", url=form.url.data, email=form.email.data,
            description=form.description.data, language=form.language.data or "fi",
            kind=form.kind.data or "workshop", actor=me(), now=utcnow(),
        )
        db.commit()
        flash(_("The profile was saved.") if changed else _("Nothing was changed."), "success")
        return redirect(url_for("people.settings", slug=slug))
    return _render_settings(profile_form=form, status=400 if request.method == "POST" else 200)


@bp.post("/org/<slug>/settings/logo")
@staff_required("admin")
def logo_upload(slug: str):
    """Replace the logo with an uploaded image (validated and re-encoded)."""
    form = LogoForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            people.set_logo(db, g.organisation, form.logo.data.read(), actor=me(), now=utcnow())
        except ImageUploadError as error:
            db.rollback()
            form.logo.errors.append(message_for(error))
        else:
            db.commit()
            flash(_("The logo was saved."), "success")
            return redirect(url_for("people.settings", slug=slug))
    return _render_settings(logo_form=form, status=400)


@bp.post("/org/<slug>/settings/logo/remove")
@staff_required("admin")
def logo_remove(slug: str):
    """Remove the logo."""
    if ConfirmForm().validate_on_submit():
        db = get_session()
        people.remove_logo(db, g.organisation, actor=me(), now=utcnow())
        db.commit()
        flash(_("The logo was removed."), "success")
    return redirect(url_for("people.settings", slug=slug))


@bp.get("/org/<slug>/logo.png")
def logo(slug: str):
    """Serve the organisation's logo (public: it is part of the issuer profile)."""
    organisation = services.get_organisation(get_session(), slug)
    if not organisation.logo_png:
        abort(404)
    response = Response(organisation.logo_png, mimetype="image/png")
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# --- members and invitations -----------------------------------------------------------------


def _render_members(invite_form: InviteForm | None = None, status: int = 200) -> tuple[str, int]:
    db = get_session()
    organisation = g.organisation
    return render_template(
        "people/members.html", organisation=organisation,
        members=people.staff_members(db, organisation),
        invitations=people.pending_invitations(db, organisation, now=utcnow()),
        invitation_ref=people.invitation_ref,
        form=invite_form or InviteForm(formdata=None), row_form=ConfirmForm(formdata=None),
        me=me(),
    ), status


def _member_or_404(public_id: str) -> User:
    try:
        return people.staff_member(get_session(), g.organisation, public_id)
    except services.NotFoundError:
        abort(404)


def _after_member_change(slug: str):  # noqa: ANN202 - Flask response
    """Go back to the list, or home when the admin just gave up their own admin role."""
    if "admin" in services.roles_of(get_session(), me(), g.organisation):
        return redirect(url_for("people.members", slug=slug))
    return redirect(url_for("home.index"))


@bp.get("/org/<slug>/members")
@staff_required("admin")
def members(slug: str):
    """List admins and coaches, pending invitations, and the invitation form."""
    return _render_members()


@bp.post("/org/<slug>/members/invite")
@staff_required("admin")
def invite(slug: str):
    """Invite a coach or an administrator by e-mail (a one-time link)."""
    form = InviteForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            invitation, token = people.invite(
                db, g.organisation, email=form.email.data or "", role=form.role.data or "coach",
                actor=me(), now=utcnow(),
            )
            send_invitation(invitation, token, me())
        except (people.AlreadyMemberError, people.AlreadyClientError) as error:
            db.rollback()
            form.email.errors.append(message_for(error))
        except outbox.MailError as error:
            db.rollback()
            flash(message_for(error), "error")
        else:
            db.commit()
            flash(_("An invitation was sent to %(email)s. The link works once and is valid for 7 days.",
                    email=invitation.email), "success")
            return redirect(url_for("people.members", slug=slug))
    return _render_members(invite_form=form, status=400)


@bp.post("/org/<slug>/members/<public_id>/role")
@staff_required("admin")
def member_role(slug: str, public_id: str):
    """Make a member an administrator or a coach."""
    user = _member_or_404(public_id)
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choose a role from the list."), "error")
        return redirect(url_for("people.members", slug=slug))
    db = get_session()
    try:
        people.change_role(db, g.organisation, user, form.role.data or "coach", actor=me(), now=utcnow())
    except people.LastAdminError as error:
        db.rollback()
        flash(message_for(error), "error")
        return redirect(url_for("people.members", slug=slug))
    db.commit()
    flash(_("%(name)s is now: %(role)s.", name=user.display_name, role=role_label(form.role.data or "")),
          "success")
    return _after_member_change(slug)


@bp.post("/org/<slug>/members/<public_id>/remove")
@staff_required("admin")
def member_remove(slug: str, public_id: str):
    """Remove a member's admin and coach roles."""
    user = _member_or_404(public_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        people.remove_member(db, g.organisation, user, actor=me(), now=utcnow())
    except people.LastAdminError as error:
        db.rollback()
        flash(message_for(error), "error")
        return redirect(url_for("people.members", slug=slug))
    db.commit()
    flash(_("%(name)s no longer works in %(organisation)s here.", name=user.display_name,
            organisation=g.organisation.name), "success")
    return _after_member_change(slug)


@bp.post("/org/<slug>/invitations/<ref>/revoke")
@staff_required("admin")
def invitation_revoke(slug: str, ref: str):
    """Cancel a pending invitation: its link stops working."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        invitation = people.revoke_invitation(db, g.organisation, ref, actor=me(), now=utcnow())
    except services.NotFoundError:
        abort(404)
    db.commit()
    flash(_("The invitation to %(email)s was cancelled.", email=invitation.email), "success")
    if invitation.role == "client":
        return redirect(url_for("people.clients", slug=slug))
    return redirect(url_for("people.members", slug=slug))


# --- keys --------------------------------------------------------------------------------------


@bp.route("/org/<slug>/keys", methods=["GET", "POST"])
@staff_required("admin")
def keys(slug: str):
    """Show the signing keys and the DID; rotate the key once confirmed."""
    organisation: Organisation = g.organisation
    form = RotateKeyForm()
    if form.validate_on_submit():
        db = get_session()
        services.rotate_key(db, current_site(), organisation, now=utcnow(), actor=me())
        db.commit()
        flash(_("A new signing key is now in use. The earlier key is retired; badges it signed stay valid."),
              "success")
        return redirect(url_for("people.keys", slug=slug))
    return render_template(
        "people/keys.html", organisation=organisation, keys=list(reversed(organisation.keys)),
        did=current_site().issuer_did(organisation.slug), form=form,
    ), 400 if request.method == "POST" else 200


# --- clients -------------------------------------------------------------------------------------


@bp.get("/org/<slug>/clients")
@staff_required()
def clients(slug: str):
    """List (and search) this organisation's clients, never anyone else's."""
    db = get_session()
    search = (request.args.get("q") or "").strip()[:100]
    found = people.clients_of(db, g.organisation, search=search, limit=CLIENT_LIST_LIMIT + 1)
    return render_template(
        "people/clients.html", organisation=g.organisation, clients=found[:CLIENT_LIST_LIMIT],
        more=len(found) > CLIENT_LIST_LIMIT, search=search,
        invitations=people.pending_invitations(db, g.organisation, now=utcnow(), roles=("client",)),
        invitation_ref=people.invitation_ref, row_form=ConfirmForm(formdata=None),
    )


@bp.route("/org/<slug>/clients/new", methods=["GET", "POST"])
@staff_required()
def client_new(slug: str):
    """Add a client: a new account, or an invitation when the e-mail address has one."""
    organisation: Organisation = g.organisation
    form = ClientForm(language=organisation.language)
    if form.validate_on_submit():
        db = get_session()
        language = form.language.data or "fi"
        try:
            result = people.create_client(
                db, organisation, name=form.name.data or "", email=form.email.data, locale=language,
                actor=me(), now=utcnow(),
            )
            if result.invitation is not None and result.token is not None:
                send_invitation(result.invitation, result.token, me(), locale=language)
        except people.AlreadyClientError as error:
            db.rollback()
            form.email.errors.append(message_for(error))
        except outbox.MailError as error:
            db.rollback()
            flash(message_for(error), "error")
        else:
            db.commit()
            if result.user is None:
                flash(_("This e-mail address already has an account, so nobody was added yet. An invitation "
                        "was sent to %(email)s: the person becomes your client when they accept it.",
                        email=result.invitation.email), "info")
                return redirect(url_for("people.clients", slug=slug))
            flash(_("%(name)s was added as a client.", name=result.user.display_name), "success")
            return redirect(url_for("people.client", slug=slug, public_id=result.user.public_id))
    return render_template("people/client_new.html", organisation=organisation, form=form), (
        400 if request.method == "POST" else 200
    )


@bp.get("/org/<slug>/clients/<public_id>")
@staff_required()
def client(slug: str, public_id: str):
    """Show a client: name, language, this organisation's relationship and awards."""
    user = client_of_or_404(public_id, g.organisation)
    db = get_session()
    return render_template(
        "people/client.html", organisation=g.organisation, client=user,
        since=people.client_since(db, g.organisation, user),
        awards=people.client_awards(db, g.organisation, user),
        language_names=LANGUAGE_NAMES, form=ConfirmForm(formdata=None), now=utcnow(),
    )


@bp.post("/org/<slug>/clients/<public_id>/activation")
@staff_required()
def client_activation(slug: str, public_id: str):
    """Make a new activation code and show the printable sheet (the code is shown only here)."""
    user = client_of_or_404(public_id, g.organisation)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    db = get_session()
    try:
        row, code = people.create_activation_code(db, g.organisation, user, actor=me(), now=utcnow())
    except people.ActivationNotAllowedError as error:
        db.rollback()
        flash(message_for(error), "error")
        return redirect(url_for("people.client", slug=slug, public_id=public_id))
    db.commit()
    activate_url = current_site().url(url_for("auth.activate"))
    qr_target = f"{activate_url}?code={code}"
    qr = segno.make(qr_target, error="m")
    # The sheet speaks the client's language; the page around it speaks the coach's.
    locales = current_app.config["BADGES_LOCALES"]
    sheet_locale = user.locale if user.locale in locales else current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(sheet_locale):
        sheet = Markup(render_template(  # noqa: S704 - our own autoescaped template's output  # nosec B704
            "people/_activation_sheet.html", organisation=g.organisation, client=user, code=code,
            activate_url=activate_url, qr_uri=qr.svg_data_uri(scale=5, border=2), sheet_locale=sheet_locale,
            expires_at=row.expires_at, login_name=None if user.email else people.login_name(user),
        ))
    response = Response(render_template(
        "people/activation.html", organisation=g.organisation, client=user, sheet=sheet,
    ))
    # The code is on this page only: never cache it anywhere.
    response.headers["Cache-Control"] = "no-store"
    return response


# --- accepting an invitation -----------------------------------------------------------------------


def _invalid_link():  # noqa: ANN202 - Flask response
    """The one neutral answer for unknown, expired, used or revoked links."""
    return render_template("people/invalid_link.html"), 404, {"Cache-Control": "no-store"}


@bp.route("/invite/<token>", methods=["GET", "POST"])
def invitation(token: str):
    """Show an invitation; create the account or accept with the existing one."""
    db = get_session()
    now = utcnow()
    try:
        found = people.find_invitation(db, token, now=now)
    except people.InvalidLinkError:
        return _invalid_link()
    headers = {"Cache-Control": "no-store"}
    status = 400 if request.method == "POST" else 200
    account = services.find_user_by_email(db, found.email)
    if account is None:
        form = NewAccountForm()
        if form.validate_on_submit():
            try:
                user = people.accept_with_new_account(
                    db, found, display_name=form.display_name.data or "", password=form.password.data or "",
                    locale=str(get_locale()), now=now,
                )
            except people.InvalidLinkError:
                db.rollback()
                return _invalid_link()
            except services.InvalidInputError:
                db.rollback()  # the address got an account meanwhile: show the log-in path
                return redirect(url_for("people.invitation", token=token))
            db.commit()
            start_session(user)
            flash(_("Welcome! Your account is ready and you joined %(organisation)s.",
                    organisation=found.organisation.name), "success")
            return redirect(url_for("home.index"))
        return render_template("people/invitation.html", invitation=found, form=form, account=None,
                               token=token), status, headers
    form = ConfirmForm()
    is_invitee = current_user.is_authenticated and me().id == account.id
    if is_invitee and form.validate_on_submit():
        try:
            people.accept_invitation(db, found, me(), now=now)
        except people.InvalidLinkError:
            db.rollback()
            return _invalid_link()
        db.commit()
        flash(_("You joined %(organisation)s.", organisation=found.organisation.name), "success")
        return redirect(url_for("home.index"))
    return render_template(
        "people/invitation.html", invitation=found, form=form, account=account, is_invitee=is_invitee,
        token=token,
    ), status, headers
