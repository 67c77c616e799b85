"""Migration 0012 builds exactly the indexes the models declare for it."""
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from clinician_app.extensions import db

INDEXES = {
    "calls": {"ix_calls_case_agency_received", "ix_calls_received"},
    "followups": {"ix_followups_case_due", "ix_followups_due"},
    "encounters": {"ix_encounters_started"},
    "triages": {"ix_triages_created"},
    "referrals": {"ix_referrals_received_case"},
}
REPLACED = {"ix_calls_case_id", "ix_followups_case"}


def _names(diff) -> set[str]:
    names = set()
    for item in diff if isinstance(diff, list) else [diff]:
        for part in item:
            name = getattr(part, "name", None)
            if name:
                names.add(name)
    return names


def test_migration_0012_matches_the_models(app):
    ours = set().union(*INDEXES.values()) | REPLACED
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, db.metadata)
        inspector = inspect(connection)
        present = {table: {ix["name"] for ix in inspector.get_indexes(table)} for table in INDEXES}
    assert [d for d in diffs if _names(d) & ours] == []
    for table, names in INDEXES.items():
        assert names <= present[table], table
        assert not present[table] & REPLACED


@pytest.mark.postgres_only
def test_migration_0014_period_indexes_carry_the_counted_columns(app):
    """On PostgreSQL the report's period indexes cover the columns it counts (0014)."""
    from clinician_app.calls.models import Call
    from clinician_app.cases.models import Encounter
    from clinician_app.followups.models import Followup

    with db.engine.connect() as connection:
        definitions = dict(connection.execute(text(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(:names) AND schemaname = current_schema()"),
            {"names": ["ix_calls_received", "ix_encounters_started", "ix_followups_due"]}).all())
    for model in (Call, Encounter, Followup):
        [index] = [ix for ix in model.__table__.indexes if ix.name in definitions]
        include = index.dialect_options["postgresql"]["include"]
        assert include, index.name
        assert definitions[index.name].endswith(f"INCLUDE ({', '.join(include)})"), definitions[index.name]
