"""Referral pages: the service directory, referrals from a case (to an agency or a
service), the inbox and outbox, accepting and declining, consents and their
printable form, medical emergency disclosures and the accounting of
disclosures. Names travel in page and POST bodies only; URLs carry opaque ids."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from clinician_app.core.csv_export import csv_response
from clinician_app.core.errors import Conflict, ValidationError
from clinician_app.core.forms import apply_service_errors
from clinician_app.core.policy import Permission, has_permission, requires
from clinician_app.core.timeutil import to_local, utcnow
from clinician_app.extensions import db

from . import accounting as disclosure_accounting
from . import (
    codes,
    disclosures,
    person_links,  # noqa: F401  (registers the person page's consents and disclosures)
    policies,
    reading,
    services,
    sharing,
)
from . import consents as consent_records
from . import directory as service_directory
from .forms import (
    AcceptForm,
    AccountingLookupForm,
    AgencyReferralForm,
    ConsentForm,
    DeclineForm,
    DirectorySearchForm,
    EmergencyDisclosureForm,
    ExpiryEventForm,
    RevokeForm,
    ServiceForm,
    ServiceReferralForm,
    ServiceStatusForm,
)

bp = Blueprint("referrals", __name__, url_prefix="/referrals")


def _context(**values):
    return {"codes": codes, "policies": policies, **values}


def _status(form, error) -> int:
    return 400 if request.method == "POST" and bool(form.errors or error) else 200


def _today():
    return to_local(utcnow(), current_user.agency.timezone).date()


# --- the service directory ----------------------------------------------------------------

@bp.get("/services")
@requires(Permission.SIGNED_IN)
def directory():
    towns = service_directory.town_agencies()
    form = DirectorySearchForm(request.args, towns=towns)
    valid = form.validate()
    rows = service_directory.list_services(current_user, text=form.q.data or "" if valid else "",
                                  kind=form.kind.data or "", town_id=form.town.data or "",
                                  include_inactive=has_permission(current_user, Permission.SERVICE_DIRECTORY_EDIT))
    return render_template("referrals/directory.html", **_context(form=form, rows=rows)), (200 if valid else 400)


def _service_form_page(service=None):
    towns = service_directory.town_agencies()
    form = ServiceForm(obj=service, towns=towns) if request.method == "GET" and service else ServiceForm(towns=towns)
    if request.method == "GET" and service is not None:
        form.town_ids.data = [t.id for t in service.towns]
    error = None
    if form.validate_on_submit():
        try:
            saved = service_directory.save_service(current_user, form.to_data(), service.id if service else None)
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash("Service saved.", "success")
            return redirect(url_for("referrals.directory", q=saved.name), 303)
    return render_template("referrals/service_form.html", **_context(form=form, service=service, error=error)), \
        _status(form, error)


@bp.route("/services/new", methods=["GET", "POST"])
@requires(Permission.SERVICE_DIRECTORY_EDIT)
def new_service():
    return _service_form_page()


@bp.route("/services/<service_id>/edit", methods=["GET", "POST"])
@requires(Permission.SERVICE_DIRECTORY_EDIT)
def edit_service(service_id):
    return _service_form_page(service_directory.get_service(service_id))


# --- referring from a case ------------------------------------------------------------------

def _consent_choices(case):
    today = _today()
    return [(c.id, f"To {c.recipient_label}, signed {c.signed_on:%Y-%m-%d} "
                   f"({consent_records.consent_state(c, today).lower()})")
            for c in consent_records.consents_for_person(current_user, case.person)]


def _referral_page(case_id, *, kind: str):
    case = sharing.case_for_referral(current_user, case_id)
    person = consent_records.person_for_consents(current_user, case.person_id, view="referral_new")
    consents = _consent_choices(case)
    part2_case = sharing.case_has_part2(case)
    if kind == codes.KIND_AGENCY:
        form = AgencyReferralForm(agencies=sharing.partner_agencies(current_user), consents=consents)
        send, template = services.send_agency_referral, "referrals/new_agency.html"
    else:
        form = ServiceReferralForm(services=service_directory.list_services(current_user), consents=consents)
        send, template = services.send_service_referral, "referrals/new_service.html"
    error = None
    if form.validate_on_submit():
        try:
            referral = send(current_user, case.id, form.to_data())
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash("Referral sent and recorded as a disclosure." if referral.shares_information else "Referral recorded.",
                  "success")
            return redirect(url_for("referrals.detail", referral_id=referral.id), 303)
    db.session.commit()  # the audited read of the person's name
    return render_template(template, **_context(form=form, case=case, person=person, part2_case=part2_case,
                                                error=error, has_consents=bool(consents))), _status(form, error)


@bp.route("/cases/<case_id>/agency", methods=["GET", "POST"])
@requires(Permission.CASES_WRITE)
def new_agency_referral(case_id):
    return _referral_page(case_id, kind=codes.KIND_AGENCY)


@bp.route("/cases/<case_id>/service", methods=["GET", "POST"])
@requires(Permission.CASES_WRITE)
def new_service_referral(case_id):
    return _referral_page(case_id, kind=codes.KIND_SERVICE)


@bp.route("/cases/<case_id>/emergency", methods=["GET", "POST"])
@requires(Permission.CASES_WRITE)
def emergency(case_id):
    case = sharing.case_for_referral(current_user, case_id)
    tz = current_user.agency.timezone
    form = EmergencyDisclosureForm(timezone=tz)
    if request.method == "GET":
        form.disclosed_at.data = to_local(utcnow(), tz).replace(second=0, microsecond=0, tzinfo=None)
    error = None
    if form.validate_on_submit():
        try:
            disclosures.record_emergency_disclosure(current_user, case.id, form.to_data())
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash("Emergency disclosure recorded for the accounting of disclosures.", "success")
            return redirect(url_for("cases.detail", case_id=case.id), 303)
    return render_template("referrals/emergency.html", **_context(form=form, case=case, error=error)), \
        _status(form, error)


# --- inbox, outbox and one referral ---------------------------------------------------------

@bp.get("/outbox")
@requires(Permission.REFERRALS_SEND)
def outbox():
    rows = reading.outbox(current_user)
    db.session.commit()  # holds applied are kept
    return render_template("referrals/outbox.html", **_context(rows=rows))


@bp.get("/inbox")
@requires(Permission.REFERRALS_RECEIVE)
def inbox():
    rows = reading.inbox(current_user)
    db.session.commit()  # the audited reads and any holds are kept
    return render_template("referrals/inbox.html", **_context(rows=rows))


def _detail_page(referral_id, *, accept_form=None, decline_form=None, error=None, status=200):
    view = reading.read_referral(current_user, referral_id)
    referral = view.referral
    deciding = policies.may_decide(current_user, referral) and referral.status == codes.PENDING
    clinicians = services.receiving_clinicians(current_user) if deciding else []
    accept_form = accept_form or AcceptForm(clinicians=clinicians)
    decline_form = decline_form or DeclineForm()
    status_form = ServiceStatusForm(status=referral.status)
    db.session.commit()  # the audited read (and a hold, if the consent lapsed) are kept
    return render_template("referrals/detail.html", **_context(
        view=view, referral=referral, deciding=deciding, accept_form=accept_form, decline_form=decline_form,
        status_form=status_form, error=error,
        may_track=policies.may_update_service_status(current_user, referral))), status


@bp.get("/<referral_id>")
@requires(Permission.REFERRALS_SEND)
def detail(referral_id):
    return _detail_page(referral_id)


@bp.post("/<referral_id>/accept")
@requires(Permission.REFERRALS_RECEIVE)
def accept(referral_id):
    referral = reading.get_referral(current_user, referral_id)  # another agency's: 404 first
    form = AcceptForm(clinicians=services.receiving_clinicians(current_user))
    error = None
    if form.validate_on_submit():
        try:
            case = services.accept_referral(current_user, referral.id, form.assignee_id.data or None)
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc) if isinstance(exc, ValidationError) else exc.message
        else:
            db.session.commit()
            flash("Referral accepted. A case is open in your agency, linked to the referral.", "success")
            if has_permission(current_user, Permission.CASES_READ):
                return redirect(url_for("cases.detail", case_id=case.id), 303)
            return redirect(url_for("referrals.detail", referral_id=referral_id), 303)
    else:
        error = "The form expired. Submit it again."
    return _detail_page(referral_id, accept_form=form, error=error, status=409 if error and "already" in error else 400)


@bp.post("/<referral_id>/decline")
@requires(Permission.REFERRALS_RECEIVE)
def decline(referral_id):
    reading.get_referral(current_user, referral_id)
    form = DeclineForm()
    error = None
    if form.validate_on_submit():
        try:
            services.decline_referral(current_user, referral_id, form.reason.data)
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc) if isinstance(exc, ValidationError) else exc.message
        else:
            db.session.commit()
            flash("Referral declined. The sending agency sees your reason.", "success")
            return redirect(url_for("referrals.inbox"), 303)
    return _detail_page(referral_id, decline_form=form, error=error, status=409 if error and "already" in error else 400)


@bp.post("/<referral_id>/status")
@requires(Permission.CASES_WRITE)
def service_status(referral_id):
    reading.get_referral(current_user, referral_id)
    form = ServiceStatusForm()
    if form.validate_on_submit():
        services.update_service_status(current_user, referral_id, form.status.data)
        db.session.commit()
        flash("Referral status updated.", "success")
    else:
        flash("Choose the referral's status.", "error")
    return redirect(url_for("referrals.detail", referral_id=referral_id), 303)


# --- consents -------------------------------------------------------------------------------

@bp.get("/people/<person_id>/consents")
@requires(Permission.PERSONS_READ)
def consents(person_id):
    person = consent_records.person_for_consents(current_user, person_id)
    rows = consent_records.consents_for_person(current_user, person)
    db.session.commit()
    today = _today()
    return render_template("referrals/consents.html", **_context(
        person=person, rows=[(c, consent_records.consent_state(c, today)) for c in rows]))


@bp.route("/people/<person_id>/consents/new", methods=["GET", "POST"])
@requires(Permission.PERSONS_WRITE)
def new_consent(person_id):
    person = consent_records.person_for_consents(current_user, person_id, permission=Permission.PERSONS_WRITE,
                                          view="consent_new")
    form = ConsentForm(agencies=sharing.partner_agencies(current_user),
                       services=service_directory.list_services(current_user))
    if request.method == "GET":
        form.categories.data = [codes.CATEGORY_IDENTITY, codes.CATEGORY_MENTAL_HEALTH, codes.CATEGORY_SAFETY]
    error = None
    if form.validate_on_submit():
        try:
            consent = consent_records.create_consent(current_user, person.id, form.to_data())
        except ValidationError as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc)
        else:
            db.session.commit()
            flash("Consent recorded.", "success")
            return redirect(url_for("referrals.consent", consent_id=consent.id), 303)
    db.session.commit()
    return render_template("referrals/consent_new.html", **_context(form=form, person=person, error=error)), \
        _status(form, error)


def _consent_page(consent_id, *, revoke_form=None, event_form=None, error=None, status=200):
    consent, person = consent_records.read_consent(current_user, consent_id)
    db.session.commit()
    return render_template("referrals/consent.html", **_context(
        consent=consent, person=person, state=consent_records.consent_state(consent, _today()),
        event_form=event_form or ExpiryEventForm(), error=error)), status


@bp.get("/consents/<consent_id>")
@requires(Permission.PERSONS_READ)
def consent(consent_id):
    return _consent_page(consent_id)


@bp.get("/consents/<consent_id>/print")
@requires(Permission.PERSONS_READ)
def consent_print(consent_id):
    consent, person = consent_records.read_consent(current_user, consent_id, view="print")
    db.session.commit()
    return render_template("referrals/consent_print.html", **_context(
        consent=consent, person=person, agency=current_user.agency, notice=codes.part2_notice()))


@bp.get("/consents/blank-form")
@requires(Permission.PERSONS_READ)
def blank_consent():
    return render_template("referrals/consent_print.html", **_context(
        consent=None, person=None, agency=current_user.agency, notice=codes.part2_notice()))


@bp.route("/consents/<consent_id>/revoke", methods=["GET", "POST"])
@requires(Permission.PERSONS_WRITE)
def revoke_consent(consent_id):
    consent, person = consent_records.read_consent(current_user, consent_id, view="revoke")
    form = RevokeForm()
    if request.method == "GET":
        form.revoked_on.data = _today()
    error = None
    if form.validate_on_submit():
        try:
            _consent, held = consent_records.revoke_consent(current_user, consent.id, form.revoked_on.data,
                                                     form.revoked_by.data)
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc) if isinstance(exc, ValidationError) else exc.message
        else:
            db.session.commit()
            message = "Consent revoked. Nothing more is shared under it."
            if held:
                message += f" {len(held)} pending referral{'s' if len(held) != 1 else ''} relying on it " \
                           f"{'are' if len(held) != 1 else 'is'} on hold."
            flash(message, "success")
            return redirect(url_for("referrals.consent", consent_id=consent.id), 303)
    else:
        db.session.commit()
    return render_template("referrals/revoke.html", **_context(consent=consent, person=person, form=form,
                                                               error=error)), _status(form, error)


@bp.post("/consents/<consent_id>/expiry-event")
@requires(Permission.PERSONS_WRITE)
def consent_event(consent_id):
    consent_records.consent_in_scope(current_user, consent_id)  # another agency's: 404 first
    form = ExpiryEventForm()
    error = None
    if form.validate_on_submit():
        try:
            _consent, held = consent_records.record_expiry_event(current_user, consent_id, form.happened_on.data)
        except (ValidationError, Conflict) as exc:
            db.session.rollback()
            error = apply_service_errors(form, exc) if isinstance(exc, ValidationError) else exc.message
        else:
            db.session.commit()
            flash("The consent has ended. Nothing more is shared under it."
                  + (f" {len(held)} pending referral(s) relying on it are on hold." if held else ""), "success")
            return redirect(url_for("referrals.consent", consent_id=consent_id), 303)
    return _consent_page(consent_id, event_form=form, error=error, status=400)


# --- the accounting of disclosures ----------------------------------------------------------

@bp.route("/accounting", methods=["GET", "POST"])
@requires(Permission.DISCLOSURES_READ)
def accounting_lookup():
    form = AccountingLookupForm()
    matches = None
    if form.validate_on_submit():
        matches = disclosure_accounting.find_for_accounting(current_user, form.first_name.data, form.last_name.data,
                                               form.date_of_birth.data)
        db.session.commit()
    return render_template("referrals/accounting_lookup.html", **_context(form=form, matches=matches)), \
        _status(form, None)


def _accounting(person_id, view):
    person = disclosure_accounting.person_for_accounting(current_user, person_id)
    rows = disclosure_accounting.accounting(current_user, person, view=view)
    db.session.commit()
    return person, rows


@bp.get("/people/<person_id>/disclosures")
@requires(Permission.DISCLOSURES_READ)
def accounting(person_id):
    person, rows = _accounting(person_id, "page")
    return render_template("referrals/accounting.html", **_context(person=person, rows=rows, printable=False,
                                                                   years=disclosure_accounting.ACCOUNTING_YEARS))


@bp.get("/people/<person_id>/disclosures/print")
@requires(Permission.DISCLOSURES_READ)
def accounting_print(person_id):
    person, rows = _accounting(person_id, "print")
    return render_template("referrals/accounting.html", **_context(person=person, rows=rows, printable=True,
                                                                   years=disclosure_accounting.ACCOUNTING_YEARS, now=utcnow()))


@bp.get("/people/<person_id>/disclosures.csv")
@requires(Permission.DISCLOSURES_READ)
def accounting_csv(person_id):
    person = disclosure_accounting.person_for_accounting(current_user, person_id)
    filename, body = disclosure_accounting.accounting_csv(current_user, person)
    db.session.commit()  # the export is on record before it leaves
    return csv_response(body, filename)


# --- the case page's section ----------------------------------------------------------------

@bp.app_template_global()
def case_referrals(case):
    """The referrals section of the case page: sent from the case or received into it."""
    return reading.referrals_for_case(current_user, case)
