"""Every table, imported in one place so Alembic sees the whole schema."""
from clinician_app.agencies.models import Agency, Shift  # noqa: F401
from clinician_app.api.models import IdempotencyRecord  # noqa: F401
from clinician_app.auth.models import ApiClient, RecoveryCode, SignInFailure, User, UserRole, UserSession  # noqa: F401
from clinician_app.calls.models import Call  # noqa: F401
from clinician_app.cases.break_glass_models import BreakGlassGrant  # noqa: F401,E402
from clinician_app.cases.models import (  # noqa: F401
    CallClosure,
    Case,
    Disposition,
    Encounter,
    EncounterCharge,
    ResponsePlan,
)
from clinician_app.cases.note_models import CaseNote  # noqa: F401,E402
from clinician_app.core.audit import AuditEvent, AuditHead  # noqa: F401
from clinician_app.engagement.models import (  # noqa: F401
    AwarenessPost,
    CommunityVisit,
    EngagementEvent,
    Place,
    RegionalPartnership,
    YouthProgram,
    YouthSession,
)
from clinician_app.followups.models import Followup, FollowupAttempt, FollowupTemplate, ReminderLog  # noqa: F401
from clinician_app.notifications.models import Notification  # noqa: F401
from clinician_app.people.models import Person, PersonAlias, PersonMerge  # noqa: F401
from clinician_app.referrals.models import Consent, Disclosure, Referral, ServiceEntry, service_towns  # noqa: F401
from clinician_app.triage.models import CallAssignment, RoutingRule, Triage  # noqa: F401
