"""Storage fixtures: a migrated Database on a SQLite file and on the local PostgreSQL server."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from storage.db import Database
from storage.tables import Base

POSTGRES_ADMIN_URL = os.environ.get(
    "AGEREC_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def sqlite_database(home: Path) -> Database:
    """A migrated Database on a fresh SQLite file under `home`."""
    db = Database(f"sqlite:///{home / 'agerec.db'}", home=home)
    db.upgrade()
    return db


@pytest.fixture
def sqlite_db(agerec_home) -> Iterator[Database]:
    """A migrated Database on a fresh SQLite file."""
    db = sqlite_database(agerec_home)
    yield db
    db.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test session, dropped afterwards."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 3})
    name = f"agerec_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc.orig}")
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        migrated = Database(url)
        migrated.upgrade()
        migrated.dispose()
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def postgres_db(postgres_url, agerec_home) -> Iterator[Database]:
    """A Database on the session's PostgreSQL database, emptied before the test."""
    db = Database(postgres_url, home=agerec_home)
    with db.engine.begin() as connection:  # DELETE: much faster than TRUNCATE on tiny tables
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'),"
                                    " 1, false)"))
    yield db
    db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request) -> Database:
    """The same migrated schema on a SQLite file and on PostgreSQL."""
    return request.getfixturevalue(f"{request.param}_db")


@pytest.fixture
def dataset(db):
    """A prepared dataset of a UTKFace source, recorded in `db`."""
    from storage.datasets import create_dataset, get_or_create_source

    source = get_or_create_source(db, "utkface", "/data/utkface")
    return create_dataset(db, source.id, params={"margin": 0.25}, summary={"splits": {}},
                          class_scheme={"edges": [0, 13, 20]}, n_images=10)


@pytest.fixture(scope="session")
def processes():
    """A multiprocessing context whose children fork from a clean server, never from a
    process holding SQLite connections or threads (SQLite forbids sharing across fork)."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([f"storage.{m}" for m in ("artifacts", "datasets", "jobs",
                                                               "runs")])
    return context
