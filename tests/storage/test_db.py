"""Tests for storage.db."""
from __future__ import annotations

import sqlite3
import threading
import time
from queue import Empty

import pytest
from sqlalchemy import text

from storage.db import Database, _set_wal, check_choice, open_database
from storage.errors import (ArtifactPathError, IntegrityViolation, JobNotFound, StorageError)
from storage.jobs import create_job, get_job, list_jobs, update_progress
from storage.settings import Settings
from storage.tables import JobRow, SourceRow


def _pragma(db: Database, name: str):
    """The value of a SQLite pragma on a pooled connection."""
    with db.engine.connect() as connection:
        return connection.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_sqlite_file_is_in_wal_mode(sqlite_db):
    """Check that the SQLite file really runs in WAL journal mode."""
    assert _pragma(sqlite_db, "journal_mode") == "wal"
    assert (sqlite_db.home / "agerec.db-wal").exists()


def test_sqlite_pragmas(sqlite_db):
    """Check that every SQLite connection has the busy timeout, foreign keys and NORMAL sync."""
    assert _pragma(sqlite_db, "busy_timeout") == 30_000
    assert _pragma(sqlite_db, "foreign_keys") == 1
    assert _pragma(sqlite_db, "synchronous") == 1  # NORMAL


def test_transaction_commits_on_success(db):
    """Check that what a transaction adds is visible after it ends."""
    with db.transaction() as session:
        session.add(JobRow(kind="train", params={}, progress={}, outputs={}, log_tail=""))
    with db.transaction(write=False) as session:
        assert session.query(JobRow).count() == 1


def test_transaction_rolls_back_on_error(db):
    """Check that an exception inside a transaction discards its writes and propagates."""
    with pytest.raises(KeyError):
        with db.transaction() as session:
            session.add(JobRow(kind="train", params={}, progress={}, outputs={}, log_tail=""))
            session.flush()
            raise KeyError("boom")
    assert list_jobs(db) == []


def test_transaction_converts_integrity_error(db):
    """Check that a unique-key violation surfaces as IntegrityViolation, not SQLAlchemy's."""
    with pytest.raises(IntegrityViolation):
        with db.transaction() as session:
            for _ in range(2):
                session.add(SourceRow(kind="csv", path="/a", meta_path=""))
                session.flush()


def test_transaction_converts_foreign_key_error(db):
    """Check that a dangling foreign key is refused on both backends."""
    with pytest.raises(IntegrityViolation):
        with db.transaction() as session:
            session.add(JobRow(kind="train", params={}, progress={}, outputs={}, log_tail="",
                               parent_id=999))


def test_transaction_converts_other_database_errors(db):
    """Check that a failing SQL statement surfaces as StorageError."""
    with pytest.raises(StorageError):
        with db.transaction() as session:
            session.execute(text("SELECT * FROM no_such_table"))


def test_transaction_passes_domain_errors_through(db):
    """Check that domain errors raised inside a transaction keep their type."""
    with pytest.raises(JobNotFound, match="job 7 does not exist"):
        get_job(db, 7)


def test_from_settings_creates_sqlite_folder(tmp_path):
    """Check that from_settings creates the folder of the SQLite file."""
    settings = Settings.from_env({"AGEREC_HOME": str(tmp_path / "new" / "home")})
    db = Database.from_settings(settings)
    with db.engine.connect() as connection:
        connection.exec_driver_sql("SELECT 1")
    db.dispose()
    assert (tmp_path / "new" / "home" / "agerec.db").exists()
    assert db.home == tmp_path / "new" / "home"


def test_stored_path_without_home_rejects_absolute(tmp_path):
    """Check that a handle without home accepts relative paths only."""
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    assert db.stored_path("runs/1/./w.h5") == "runs/1/w.h5"
    with pytest.raises(ArtifactPathError):
        db.stored_path(tmp_path / "w.h5")
    with pytest.raises(ArtifactPathError):
        db.stored_path("../w.h5")


def test_paths_without_home_is_storage_error(tmp_path):
    """Check that asking for the home layout of a handle without home is a StorageError."""
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(StorageError, match="AGEREC_HOME"):
        db.paths


def test_in_memory_sqlite_is_shared_across_sessions():
    """Check that an in-memory SQLite handle keeps its schema between transactions."""
    db = Database("sqlite://")
    db.upgrade()
    create_job(db, "train")
    assert len(list_jobs(db)) == 1


def test_check_choice_names_allowed_values():
    """Check that check_choice's ValueError lists the allowed values and the bad one."""
    with pytest.raises(ValueError, match="'a', 'b'.*'c'"):
        check_choice("c", ("a", "b"), "letter")


def _write_progress(home: str, job_id: int, updates: int, errors) -> None:
    """Child process: write `updates` progress updates to one job."""
    db = Database(f"sqlite:///{home}/agerec.db", home=home)
    try:
        for step in range(updates):
            update_progress(db, job_id, step + 1, updates, "fit")
    except Exception as exc:  # reported to the parent
        errors.put(f"job {job_id}: {exc!r}")
    finally:
        db.dispose()


def _drain(queue) -> list:
    """Everything waiting in a multiprocessing queue."""
    items = []
    while True:
        try:
            items.append(queue.get(timeout=0.5))
        except Empty:
            return items


@pytest.mark.slow
def test_concurrent_writers_and_reader_on_sqlite(sqlite_db, processes):
    """Check that 20 processes updating progress while a reader polls never hit a lock error."""
    writers, updates = 20, 10
    jobs = [create_job(sqlite_db, "train").id for _ in range(writers)]
    errors = processes.Queue()
    children = [processes.Process(target=_write_progress,
                                 args=(str(sqlite_db.home), job_id, updates, errors))
                 for job_id in jobs]
    reads, read_errors, done = [], [], threading.Event()

    def poll() -> None:
        while not done.is_set():
            try:
                reads.append(len(list_jobs(sqlite_db, limit=None)))
            except Exception as exc:
                read_errors.append(repr(exc))
            time.sleep(0.005)

    reader = threading.Thread(target=poll)
    reader.start()
    for child in children:
        child.start()
    for child in children:
        child.join(timeout=120)
    done.set()
    reader.join()
    assert _drain(errors) == [] and read_errors == []
    assert [child.exitcode for child in children] == [0] * writers
    assert reads and set(reads) == {writers}
    assert all(get_job(sqlite_db, job_id).progress == {"current": updates, "total": updates,
                                                       "stage": "fit"} for job_id in jobs)


def test_open_database_migrates(agerec_home):
    """Check that open_database returns a handle on a migrated database."""
    db = open_database(Settings.from_env())
    assert create_job(db, "train").id == 1
    db.dispose()


class _LockedCursor:
    """A DB-API cursor whose first `failures` executes fail as SQLite's lock race does."""

    def __init__(self, failures, message="database is locked"):
        self.failures, self.message, self.calls = failures, message, 0

    def execute(self, sql):
        self.calls += 1
        if self.calls <= self.failures:
            raise sqlite3.OperationalError(self.message)


def test_wal_switch_retries_while_the_file_is_locked():
    """Check that an immediate 'database is locked' on the WAL pragma is retried."""
    cursor = _LockedCursor(failures=2)
    _set_wal(cursor, timeout_s=5)
    assert cursor.calls == 3


def test_wal_switch_gives_up_after_its_timeout():
    """Check that a lock that never clears is raised once the timeout has passed."""
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        _set_wal(_LockedCursor(failures=10**6), timeout_s=0.05)


def test_wal_switch_raises_other_errors_at_once():
    """Check that an error other than a lock is not retried."""
    cursor = _LockedCursor(failures=5, message="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):
        _set_wal(cursor, timeout_s=5)
    assert cursor.calls == 1


@pytest.mark.postgres
def test_a_plain_postgresql_url_opens_and_migrates(postgres_url, agerec_home):
    """Check that AGEREC_DATABASE_URL=postgresql://... (no driver named, as the README
    writes it) opens through the installed driver, psycopg 3, migrates and round-trips a
    row; skipped with the reason when the local PostgreSQL is not reachable."""
    from sqlalchemy.engine import make_url

    plain = make_url(postgres_url).set(drivername="postgresql")
    assert plain.render_as_string(hide_password=False).startswith("postgresql://")
    db = open_database(Settings.from_env({"AGEREC_HOME": str(agerec_home),
                                          "AGEREC_DATABASE_URL":
                                              plain.render_as_string(hide_password=False)}))
    try:
        assert db.engine.dialect.driver == "psycopg"
        job = create_job(db, "train")
        assert get_job(db, job.id).kind == "train"
    finally:
        db.dispose()


def test_the_postgresql_driver_is_a_main_dependency():
    """Check that psycopg (3) is among the main dependencies, not only a test extra, so a
    plain postgresql:// URL works from a normal install."""
    import tomllib

    from tests.conftest import REPO

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert any(dep.startswith("psycopg[binary]") for dep in project["dependencies"])
