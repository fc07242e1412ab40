"""Blueprint ``endorsements``: education providers endorse other organisations' badges.

Staff (admin or coach) of an education provider browse the badge definitions in use of other
organisations, endorse one with a comment and the ePerusteet requirements it evidences, and
withdraw their endorsements (``/org/<slug>/endorsements…``). Any organisation's staff see the
endorsements their badges received there too. Each endorsement is public at
``/endorsements/<id>`` (page) and ``/endorsements/<id>.json`` (the signed credential).
"""

from typing import Any

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from badges import endorsements, library
from badges.db import get_session
from badges.models import AchievementVersion, Organisation
from badges.web import current_site, utcnow
from badges.web.access import me, staff_required
from badges.web.coach import register_actions
from badges.web.messages import message_for, register
from badges.web.ob2 import reject_implausible_ids

bp = Blueprint("endorsements", __name__)
bp.before_request(reject_implausible_ids)

PER_PAGE = 25
VC_JSON = "application/vc+ld+json"

register({
    "endorse_not_provider": _l("Only an education provider can endorse badges. An administrator can set the "
                               "kind of organisation in the settings."),
    "endorse_own_badge": _l("An organisation cannot endorse its own badges."),
    "endorse_retired": _l("This badge is retired. It cannot be endorsed."),
    "endorse_comment_missing": _l("Write what the badge shows in your view."),
    "endorse_comment_too_long": _l("The comment is too long (at most 2,000 characters)."),
    "endorse_no_requirement": _l("Name at least one qualification requirement or unit that the badge evidences."),
    "endorse_duplicate": _l("Your organisation has endorsed this badge already. Withdraw that endorsement "
                            "first to endorse it anew."),
    "endorse_already_withdrawn": _l("This endorsement was withdrawn already."),
    "endorse_reason_too_long": _l("The reason is too long (at most 500 characters)."),
})
register_actions({
    "endorsement.create": _l("Endorsed a badge"),
    "endorsement.withdraw": _l("Withdrew an endorsement"),
})
#: Which form field shows a service error with this code.
_ERROR_FIELDS = {
    "endorse_comment_missing": "comment",
    "endorse_comment_too_long": "comment",
    "endorse_no_requirement": "codes",
    "alignment_unknown": "codes",
    "alignment_too_many": "codes",
    "endorse_reason_too_long": "reason",
}


class EndorseForm(FlaskForm):
    """What the badge evidences, and the endorser's words."""

    codes = TextAreaField(
        _l("Qualification requirements or units the badge evidences"),
        validators=[Length(max=4000, message=_l("Give at most 20 alignment codes."))],
        description=_l("One code a line, e.g. ammattitaitovaatimukset_414 or tutkinnonosat_106386. "
                       "The badge's own alignments are filled in: keep the ones you stand behind."),
    )
    comment = TextAreaField(
        _l("Your endorsement"),
        validators=[DataRequired(message=_l("Write what the badge shows in your view.")),
                    Length(max=endorsements.MAX_COMMENT,
                           message=_l("The comment is too long (at most 2,000 characters)."))],
        description=_l("For example: “A holder of this badge has shown this requirement at work. "
                       "We take it into account when recognising prior learning.” At most 2,000 characters."),
    )


class WithdrawForm(FlaskForm):
    """An optional reason for withdrawing an endorsement."""

    reason = TextAreaField(
        _l("Reason (optional)"),
        validators=[Optional(), Length(max=endorsements.MAX_REASON,
                                       message=_l("The reason is too long (at most 500 characters)."))],
        description=_l("Shown on the public page of the endorsement. At most 500 characters."),
    )


def _show_error(form: FlaskForm, error: Any) -> None:
    target = getattr(form, _ERROR_FIELDS.get(error.code, ""), None)
    if target is None:
        flash(message_for(error), "error")
        return
    if not isinstance(target.errors, list):
        target.errors = list(target.errors)
    target.errors.append(message_for(error))


def _provider() -> Organisation:
    """Return the workspace organisation when it may endorse, else 404."""
    if not endorsements.can_endorse(g.organisation):
        abort(404)
    return g.organisation


@bp.app_context_processor
def _helpers() -> dict[str, Any]:
    """Offer every template the endorsements of a badge and whether an organisation may endorse."""

    def endorsements_of(version: AchievementVersion) -> list[endorsements.EndorsementView]:
        return endorsements.views_for(get_session(), version.achievement)

    return {"endorsements_of": endorsements_of, "can_endorse": endorsements.can_endorse}


# --- the workspace ------------------------------------------------------------------------------------


@bp.get("/org/<slug>/endorsements")
@staff_required()
def index(slug: str):
    """List the endorsements the organisation gave (education providers) and received."""
    session = get_session()
    organisation = g.organisation
    given = endorsements.endorsements_by(session, organisation) if endorsements.can_endorse(organisation) else []
    return render_template(
        "endorsements/index.html", organisation=organisation, given=given,
        received=endorsements.endorsements_received(session, organisation),
    )


@bp.get("/org/<slug>/endorsements/badges")
@staff_required()
def browse(slug: str):
    """List other organisations' badge definitions in use, with a search by name."""
    organisation = _provider()
    query = " ".join(request.args.get("q", "").split())[:100]
    try:
        page = max(1, min(int(request.args.get("page", "1")), 100_000))
    except ValueError:
        page = 1
    badges, total = endorsements.endorsable_badges(
        get_session(), organisation, query=query, limit=PER_PAGE, offset=(page - 1) * PER_PAGE,
    )
    pages = max(1, -(-total // PER_PAGE))
    args = {"slug": slug, **({"q": query} if query else {})}
    return render_template(
        "endorsements/browse.html", organisation=organisation, badges=badges, total=total, query=query,
        page={"page": page, "pages": pages,
              "prev_url": url_for(".browse", **args, page=page - 1) if page > 1 else None,
              "next_url": url_for(".browse", **args, page=page + 1) if page < pages else None},
    )


@bp.route("/org/<slug>/endorsements/badges/<public_id>", methods=["GET", "POST"])
@staff_required()
def endorse(slug: str, public_id: str):
    """Endorse another organisation's badge: requirements it evidences and a comment."""
    organisation = _provider()
    session = get_session()
    achievement = endorsements.endorsable_badge(session, organisation, public_id)
    version = achievement.current
    form = EndorseForm()
    if request.method == "GET":
        form.codes.data = "\n".join(a["targetCode"] for a in version.alignments if a.get("targetCode"))
    status = 200
    if form.validate_on_submit():
        try:
            endorsement = endorsements.create_endorsement(
                session, current_site(), endorser=organisation, achievement=achievement,
                comment=form.comment.data or "", codes=library.parse_codes(form.codes.data), actor=me(),
                now=utcnow(),
            )
        except (endorsements.EndorsementError, library.UnknownAlignmentError,
                library.TooManyAlignmentsError) as error:
            session.rollback()
            _show_error(form, error)
            status = 400
        else:
            session.commit()
            flash(_("The badge is endorsed. Badges awarded from now on carry your endorsement."), "success")
            return redirect(url_for(".detail", public_id=endorsement.public_id))
    elif request.method == "POST":
        status = 400
    existing = [e for e in endorsements.endorsements_for(session, achievement)
                if e.endorser_id == organisation.id and e.revoked_at is None]
    return render_template(
        "endorsements/new.html", organisation=organisation, achievement=achievement, version=version,
        form=form, existing=existing[0] if existing else None, search_url=url_for("frameworks.search_json"),
        browse_url=url_for("frameworks.qualification_list"),
    ), status


@bp.route("/org/<slug>/endorsements/<public_id>/withdraw", methods=["GET", "POST"])
@staff_required()
def withdraw(slug: str, public_id: str):
    """Ask for confirmation, then withdraw one of the organisation's own endorsements."""
    session = get_session()
    endorsement = endorsements.endorsement_of(session, g.organisation, public_id)
    form = WithdrawForm()
    status = 200
    if form.validate_on_submit():
        try:
            endorsements.withdraw_endorsement(session, current_site(), endorsement, reason=form.reason.data,
                                              actor=me(), now=utcnow())
        except endorsements.EndorsementError as error:
            session.rollback()
            _show_error(form, error)
            status = 409 if error.status == 409 else 400
        else:
            session.commit()
            flash(_("The endorsement is withdrawn. Badges awarded from now on do not carry it."), "success")
            return redirect(url_for(".index", slug=slug))
    elif request.method == "POST":
        status = 400
    return render_template("endorsements/withdraw.html", organisation=g.organisation, endorsement=endorsement,
                           view=endorsements.view_of(endorsement), form=form), status


# --- public ---------------------------------------------------------------------------------------------


@bp.get("/endorsements/<public_id>")
def detail(public_id: str):
    """Show an endorsement: who endorsed which badge, for which requirements, and its status.

    A client that prefers JSON (a verifier dereferencing the credential's id) gets the signed document.
    """
    if request.accept_mimetypes.best_match(["text/html", "application/ld+json", "application/json",
                                            VC_JSON]) not in (None, "text/html"):
        return document(public_id)
    endorsement = endorsements.get_endorsement(get_session(), public_id)
    view = endorsements.view_of(endorsement)
    version = next((v for v in endorsement.achievement.versions if v.public_id == view.version_public_id),
                   endorsement.achievement.current)
    return render_template("endorsements/detail.html", endorsement=endorsement, view=view, version=version,
                           now=utcnow())


@bp.get("/endorsements/<public_id>.json")
def document(public_id: str):
    """Serve the signed EndorsementCredential exactly as stored."""
    endorsement = endorsements.get_endorsement(get_session(), public_id)
    response = Response(endorsement.document, mimetype=VC_JSON)
    response.headers["Access-Control-Allow-Origin"] = "*"  # verifiers in browsers read it
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Content-Disposition"] = f'inline; filename="endorsement-{public_id}.json"'
    response.vary.add("Accept")  # the page's address serves it too, by content negotiation
    return response

