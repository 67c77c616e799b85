"""Migration 0011 builds exactly what the engagement models declare, and youth
programs have no place to put a child's personal data."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from clinician_app.extensions import db

ENGAGEMENT_TABLES = {"places", "eng_visits", "eng_visit_officers", "eng_events", "eng_event_officers",
                     "eng_partnerships", "eng_partnership_agencies", "eng_posts", "eng_youth_programs",
                     "eng_youth_sessions", "eng_youth_session_officers"}


def _ours(diff) -> bool:
    for item in diff if isinstance(diff, list) else [diff]:
        for part in item:
            table = getattr(part, "table", None)
            name = getattr(part, "name", None) if table is None else table.name
            if name in ENGAGEMENT_TABLES or (name == "calls" and "place" in repr(item)):
                return True
    return False


def test_the_migration_matches_the_engagement_models(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diffs = compare_metadata(context, db.metadata)
    assert [d for d in diffs if _ours(d)] == []
    with db.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        assert ENGAGEMENT_TABLES <= tables
        fks = inspect(connection).get_foreign_keys("calls")
    assert any(fk["referred_table"] == "places" and fk["constrained_columns"] == ["place_id"] for fk in fks)


PERSONAL = ("name", "first", "last", "birth", "dob", "born", "age_of", "phone", "email", "contact", "address",
            "guardian", "parent", "school_of", "child", "participant_id", "notes")


def test_no_youth_table_has_a_column_for_a_childs_personal_data(app):
    with db.engine.connect() as connection:
        inspector = inspect(connection)
        youth_tables = [t for t in inspector.get_table_names() if t.startswith("eng_youth")]
        assert set(youth_tables) == {"eng_youth_programs", "eng_youth_sessions", "eng_youth_session_officers"}
        for table in youth_tables:
            for column in inspector.get_columns(table):
                assert not any(word in column["name"] for word in PERSONAL), (table, column["name"])
                assert not column["name"].endswith("_enc"), (table, column["name"])
        counts = [c["name"] for c in inspector.get_columns("eng_youth_sessions") if c["name"].startswith("participants_")]
    assert counts == ["participants_8_10", "participants_11_13", "participants_14_17"]
