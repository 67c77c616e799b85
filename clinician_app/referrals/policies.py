"""Rules about one consent, referral or disclosure (no Flask imports).

When is a referral "Part 2"? (decided here, SECURITY.md promise 3)
  A referral carries substance-use (42 CFR Part 2) information when the sender
  says so (ticks "substance use" among what is shared) OR when the case it is
  sent from holds any substance-use note. The second rule is deliberately
  conservative: the summary is written by someone who has read those notes, the
  app can't tell whether it repeats them, and even the fact that a person is in
  substance-use care is protected. Either way, the referral may go only under a
  consent that is in effect and covers substance use (or as a 42 CFR 2.51 medical
  emergency), and it carries the redisclosure notice and a copy of the consent.

A consent may be relied on when every one of these holds, checked before any
sharing (42 CFR 2.31): it is signed and in effect (not future-dated), not
expired (by date, the expiry day included; or its expiry event has happened),
not revoked, names this recipient (the agency or service, or a class that takes
it in), and covers every category of information shared.

Who does what:
  * clinicians and supervisors of the case's agency write referrals from a case
    (they see the case); liaisons see their agency's inbox and outbox;
  * a liaison or supervisor of the receiving agency accepts or declines;
  * the receiving agency sees the summary only, never the sender's record.
"""
from __future__ import annotations

from datetime import date

from clinician_app.core.policy import Permission

from . import codes


def _holds(user, permission) -> bool:
    return permission in getattr(user, "permissions", ())


# --- consents ---------------------------------------------------------------------------

def consent_in_effect_problem(consent, today: date) -> str | None:
    """Why the consent can't be relied on today, whoever the recipient; None if it can."""
    if consent.revoked_on is not None:
        return f"This consent was revoked on {consent.revoked_on:%Y-%m-%d}."
    if consent.signed_on > today:
        return f"This consent is dated {consent.signed_on:%Y-%m-%d}, in the future: it is not in effect yet."
    if consent.expires_on is not None and consent.expires_on < today:
        return f"This consent expired on {consent.expires_on:%Y-%m-%d}."
    if consent.expiry_event_on is not None and consent.expiry_event_on <= today:
        return f"This consent ended on {consent.expiry_event_on:%Y-%m-%d}, when its expiry event happened."
    if not consent.purpose_enc:
        return "This consent does not state its purpose."
    if consent.expires_on is None and not consent.expiry_event_enc:
        return "This consent has no expiry date or event."
    return None


def consent_names_recipient(consent, *, agency_id: str | None = None, service=None) -> bool:
    """Does the consent name this recipient (an agency, or a directory service)?"""
    if consent.recipient_kind == codes.RECIPIENT_AGENCY:
        return agency_id is not None and consent.recipient_agency_id == agency_id
    if consent.recipient_kind == codes.RECIPIENT_SERVICE:
        return service is not None and consent.recipient_service_id == service.id
    if consent.recipient_kind == codes.RECIPIENT_CLASS:
        if consent.recipient_class == codes.CLASS_PARTNER_AGENCIES:
            return agency_id is not None
        if consent.recipient_class == codes.CLASS_TREATING_PROVIDERS:
            return service is not None and service.kind in codes.TREATMENT_KINDS
    return False


def consent_problem(consent, today: date, *, categories: list[str], part2: bool,
                    agency_id: str | None = None, service=None) -> str | None:
    """Why this consent can't carry this sharing; None when it can."""
    problem = consent_in_effect_problem(consent, today)
    if problem:
        return problem
    if not consent_names_recipient(consent, agency_id=agency_id, service=service):
        return "This consent does not name this recipient."
    covered = set(consent.category_codes)
    if part2 and codes.CATEGORY_SUBSTANCE_USE not in covered:
        return ("This referral carries substance-use (42 CFR Part 2) information, and this consent does not "
                "cover substance-use information.")
    missing = [codes.CATEGORIES[c] for c in categories if c not in covered and c in codes.CATEGORIES]
    if missing:
        return "This consent does not cover: " + "; ".join(missing) + "."
    return None


def basis_problem(basis: str | None, part2: bool) -> str | None:
    if basis not in codes.BASES:
        return "Choose the consent this relies on, or the legal basis for sharing without consent."
    if part2 and basis not in codes.PART2_BASES:
        return ("Substance-use (42 CFR Part 2) information is shared only under a consent that covers it, "
                "or in a medical emergency (42 CFR 2.51).")
    return None


def hold_reason_for(consent, today: date) -> str | None:
    """A pending referral relying on this consent is held when it lapses."""
    if consent.revoked_on is not None:
        return codes.HOLD_REVOKED
    if consent_in_effect_problem(consent, today):
        return codes.HOLD_EXPIRED
    return None


# --- referrals --------------------------------------------------------------------------

def is_sender(user, referral) -> bool:
    return user.agency_id == referral.from_agency_id


def is_receiver(user, referral) -> bool:
    return referral.is_agency and user.agency_id == referral.to_agency_id


def may_decide(user, referral) -> bool:
    """A liaison or supervisor of the receiving agency."""
    return _holds(user, Permission.REFERRALS_RECEIVE) and is_receiver(user, referral)


def may_read_summary(user, referral) -> bool:
    """The sending agency's referral staff; on the receiving side, those who decide
    and, once accepted, the clinicians who work the case it opened. A held referral
    shows the receiver nothing more: its consent no longer allows sharing."""
    if is_sender(user, referral):
        return _holds(user, Permission.REFERRALS_SEND)
    if not is_receiver(user, referral) or referral.status == codes.HELD:
        return False
    if _holds(user, Permission.REFERRALS_RECEIVE):
        return True
    return referral.status == codes.ACCEPTED and _holds(user, Permission.CASES_READ)


def may_update_service_status(user, referral) -> bool:
    return (not referral.is_agency and is_sender(user, referral)
            and _holds(user, Permission.REFERRALS_SEND) and _holds(user, Permission.CASES_WRITE))


def may_read_accounting(user, person) -> bool:
    """The auditor and the clinicians of the person's agency."""
    return _holds(user, Permission.DISCLOSURES_READ) and user.agency_id == person.agency_id
