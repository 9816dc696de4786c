"""Tests for storage/migrations: the alembic schema, run programmatically."""
from __future__ import annotations


from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from storage.db import Database, open_database
from storage.settings import Settings
from storage.tables import Base

HEAD = "0002"  # the newest migration
TABLES = {"dataset_sources", "dataset_versions", "jobs", "runs", "metrics", "artifacts"}


def _revision(db: Database) -> list[str]:
    """Every row of alembic_version."""
    with db.engine.connect() as connection:
        return list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def test_upgrade_creates_schema_on_fresh_file(tmp_path):
    """Check that upgrade() on an empty SQLite file creates every table at the newest revision."""
    db = Database(f"sqlite:///{tmp_path / 'fresh.db'}")
    db.upgrade()
    assert TABLES <= set(inspect(db.engine).get_table_names())
    assert _revision(db) == [HEAD]
    db.dispose()


def test_upgrade_is_idempotent(db):
    """Check that upgrading an up-to-date database changes nothing and keeps the data."""
    from storage.jobs import create_job, list_jobs

    create_job(db, "train")
    db.upgrade()
    db.upgrade()
    assert _revision(db) == [HEAD]
    assert len(list_jobs(db)) == 1


def test_migrations_match_models(db):
    """Check that the migrated schema is exactly what the table models describe."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def _open(environ: dict[str, str], barrier, results) -> None:
    """Child process: wait for the others, then open (and migrate) the database."""
    barrier.wait(timeout=30)
    try:
        open_database(Settings.from_env(environ)).dispose()
        results.put("ok")
    except Exception as exc:  # reported to the parent
        results.put(repr(exc))


def test_concurrent_open_database_on_fresh_file(tmp_path, processes):
    """Check that four processes opening a fresh SQLite file at once all succeed."""
    environ = {"AGEREC_HOME": str(tmp_path / "home")}
    barrier, results = processes.Barrier(4), processes.Queue()
    children = [processes.Process(target=_open, args=(environ, barrier, results))
                 for _ in range(4)]
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=60)
    assert sorted(results.get(timeout=5) for _ in children) == ["ok"] * 4
    db = Database.from_settings(Settings.from_env(environ))
    assert _revision(db) == [HEAD]
    db.dispose()
