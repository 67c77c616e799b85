"""Every table, imported in one place so Alembic sees the whole schema."""
from clinician_app.agencies.models import Agency  # noqa: F401
from clinician_app.auth.models import ApiClient, RecoveryCode, SignInFailure, User, UserRole, UserSession  # noqa: F401
from clinician_app.core.audit import AuditEvent, AuditHead  # noqa: F401
