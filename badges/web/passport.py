"""Blueprint ``passport``: a client's passport, progress, downloads and personal data.

Everything here is the logged-in person's own: another person's award is a 404.
"""

import json

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required, logout_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length

from badges import passport
from badges.db import get_session
from badges.models import Award
from badges.web import current_site, utcnow
from badges.web.access import me

bp = Blueprint("passport", __name__, url_prefix="/passport")


class EvidenceVisibilityForm(FlaskForm):
    """Hide the evidence of one badge (``1``) or show it again (``0``)."""

    hidden = HiddenField(validators=[InputRequired(), AnyOf(("0", "1"))])


class DeleteAccountForm(FlaskForm):
    """Password confirmation and what happens to the badges."""

    badges = RadioField(
        _l("What happens to your badges?"),
        choices=[
            SelectChoice("withdraw", _l("Withdraw my badges: nobody can use them as proof any more.")),
            SelectChoice("keep", _l("Keep my badges valid: I have downloaded my bundle and keep it myself.")),
        ],
        validators=[InputRequired(message=_l("Choose what happens to your badges."))],
    )
    password = PasswordField(
        _l("Your password"), validators=[DataRequired(message=_l("Type your password to confirm.")), Length(max=1024)],
    )


def _language() -> str:
    return str(get_locale() or "fi")


def _own_award_or_404(public_id: str) -> Award:
    award = passport.own_award(get_session(), me(), public_id)
    if award is None:
        abort(404)
    return award


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.get("")
@login_required
def index():
    """Show the person's passport: badges, progress toward units, timeline, withdrawn badges."""
    db = get_session()
    now = utcnow()
    awards = passport.page_awards(db, me())
    language = _language()
    return render_template(
        "passport/index.html", now=now, language=language,
        valid=[a for a in awards if passport.is_valid(a, now)],
        expired=[a for a in awards if passport.is_expired(a, now)],
        withdrawn=[a for a in awards if passport.is_withdrawn(a)],
        groups=passport.progress(db, awards, now=now, language=language),
        months=passport.timeline(awards, now=now),
        texts={a.id: passport.texts_of(a, language) for a in awards},
    )


@bp.get("/badges/<public_id>")
@login_required
def badge(public_id: str):
    """Show one of the person's own badges: criteria, issuer, dates, alignments, evidence, downloads."""
    award = _own_award_or_404(public_id)
    return _render_badge(award, EvidenceVisibilityForm(formdata=None))


def _render_badge(award: Award, form: EvidenceVisibilityForm, status: int = 200):  # noqa: ANN202
    language = _language()
    return _no_store(Response(render_template(
        "passport/badge.html", award=award, version=award.achievement_version, now=utcnow(),
        texts=passport.texts_of(award, language),
        alignments=passport.explain_alignments(get_session(), award, language=language),
        evidence=passport.evidence_of(current_site(), award), form=form,
        valid=passport.is_valid(award, utcnow()), expired=passport.is_expired(award, utcnow()),
    ), status))


@bp.post("/badges/<public_id>/evidence")
@login_required
def evidence_visibility(public_id: str):
    """Hide the badge's evidence from the passport and shares, or show it again."""
    award = _own_award_or_404(public_id)
    form = EvidenceVisibilityForm()
    if not form.validate_on_submit():
        return _render_badge(award, form, 400)
    db = get_session()
    hidden = form.hidden.data == "1"
    passport.set_evidence_hidden(db, award, hidden, now=utcnow())
    db.commit()
    if hidden:
        flash(_("The evidence is now hidden in your passport and in your shares."), "success")
    else:
        flash(_("The evidence is shown again in your passport and in shares that include evidence."), "success")
    return redirect(url_for("passport.badge", public_id=award.public_id))


@bp.get("/bundle.zip")
@login_required
def bundle():
    """Download every credential with the documents that verify it offline, as a ZIP."""
    db = get_session()
    site = current_site()
    now = utcnow()
    readme = render_template("passport/bundle_readme.html", facts=passport.bundle_facts(db, site, me()), now=now,
                             site_url=site.base_url)
    out = passport.bundle_file(db, site, me(), now=now, readme=readme)
    size = out.seek(0, 2)
    out.seek(0)

    def chunks():  # noqa: ANN202 - a generator of bytes
        try:
            while block := out.read(64 * 1024):
                yield block
        finally:
            out.close()

    response = Response(chunks(), mimetype="application/zip")
    response.call_on_close(out.close)  # also when the download is cut short
    response.headers["Content-Length"] = str(size)
    response.headers["Content-Disposition"] = f'attachment; filename="osaamispassi-{now.date().isoformat()}.zip"'
    return _no_store(response)


def _verification_url(award: Award) -> str:
    return current_app.config["BADGES_BASE_URL"].rstrip("/") + url_for(
        "public.credential", public_id=award.public_id, _external=False
    )


def passport_html() -> str:
    """Render the printable passport's HTML (images and QR codes inline, nothing to fetch)."""
    db = get_session()
    now = utcnow()
    language = _language()
    awards = [a for a in passport.own_awards(db, me()) if passport.is_valid(a, now)]
    images = {a.achievement_version_id: passport.png_data_uri(a.achievement_version.image_png) for a in awards}
    badges = [
        {
            "award": award, "texts": passport.texts_of(award, language), "image": images[award.achievement_version_id],
            "alignments": passport.explain_alignments(db, award, language=language),
            "url": _verification_url(award), "qr": passport.qr_svg(_verification_url(award)),
        }
        for award in awards
    ]
    # A CSS string may not hold a quote or a backslash; the label is plain text anyway.
    page_label = "".join(ch for ch in _("Page") if ch not in "\"\\\n")
    return render_template("passport/pdf.html", badges=badges, now=now, holder=me(), language=language,
                           page_label=page_label)


@bp.get("/passport.pdf")
@login_required
def pdf():
    """Download the valid badges as a printable A4 PDF with a QR code per badge."""
    body = passport.html_to_pdf(passport_html())
    response = Response(body, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="osaamispassi-{utcnow().date().isoformat()}.pdf"'
    return _no_store(response)


@bp.get("/data")
@login_required
def data():
    """Show the person's data rights: download everything, or delete the account."""
    return _no_store(Response(render_template("passport/data.html", form=DeleteAccountForm(formdata=None))))


@bp.get("/data.json")
@login_required
def data_json():
    """Download all personal data as JSON."""
    exported = passport.export_personal_data(get_session(), current_site(), me(), now=utcnow())
    response = Response(json.dumps(exported, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="osaamispassi-data.json"'
    return _no_store(response)


@bp.post("/delete")
@login_required
def delete():
    """Delete the account after a password check; withdraw the badges or keep them valid."""
    form = DeleteAccountForm()
    if form.validate_on_submit():
        db = get_session()
        try:
            passport.delete_account(db, current_site(), me(), form.password.data or "",
                                    withdraw=form.badges.data == "withdraw", now=utcnow())
        except passport.PassportError:
            db.rollback()
            form.password.errors = [_("The password is not right. Nothing was deleted.")]
        else:
            db.commit()
            logout_user()
            session.clear()
            flash(_("Your account and your personal data were deleted."), "success")
            return redirect(url_for("home.index"))
    return _no_store(Response(render_template("passport/data.html", form=form), 400))
