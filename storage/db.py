"""The database handle: engine, SQLite tuning, the one transaction helper and migrations."""
from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from storage.errors import (ArtifactPathError, DatabaseBusy, IntegrityViolation, NotFoundError,
                            StorageError)
from storage.paths import ArtifactPaths
from storage.settings import Settings

T = TypeVar("T")
SQLITE_BUSY_TIMEOUT_MS = 30_000
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_PG_MIGRATION_LOCK = 0x61676572  # "ager": serialises concurrent upgrades on PostgreSQL


class Database:
    """An engine plus session factories; every read and write goes through transaction()."""

    def __init__(self, url: str, *, home: str | Path | None = None, echo: bool = False):
        self.url = make_url(url)
        self.home = Path(home).expanduser().resolve() if home is not None else None
        self.engine = _create_engine(self.url, echo)
        writer = self.engine
        if self.is_sqlite:  # writers take the lock up front: no busy-snapshot upgrade failures
            writer = self.engine.execution_options(sqlite_begin="IMMEDIATE")
        self._writer = writer
        self._write_sessions = sessionmaker(bind=writer, expire_on_commit=False)
        self._read_sessions = sessionmaker(bind=self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Database":
        """A handle on settings.database_url, creating the SQLite file's folder if needed."""
        url = make_url(settings.database_url)
        if url.get_backend_name() == "sqlite" and not _is_memory(url):
            Path(url.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
        return cls(settings.database_url, home=settings.home)

    @property
    def is_sqlite(self) -> bool:
        """Whether the backend is SQLite."""
        return self.url.get_backend_name() == "sqlite"

    @property
    def paths(self) -> ArtifactPaths:
        """The AGEREC_HOME layout; StorageError when this handle has no home."""
        if self.home is None:
            raise StorageError(f"database {self.url!r} was opened without an AGEREC_HOME")
        return ArtifactPaths(self.home)

    def stored_path(self, path: str | Path) -> str:
        """`path` as stored: POSIX and relative to home; ArtifactPathError if it escapes home."""
        if self.home is not None:
            return self.paths.relative(path)
        raw = Path(path)
        normal = Path(os.path.normpath(raw)).as_posix()
        if raw.is_absolute() or normal == ".." or normal.startswith("../"):
            raise ArtifactPathError(
                f"path {os.fspath(path)!r} must be relative to AGEREC_HOME (no home is set)")
        return normal

    @contextmanager
    def transaction(self, *, write: bool = True) -> Iterator[Session]:
        """A session: commit on success, rollback on error; SQLAlchemy errors -> StorageError."""
        session = (self._write_sessions if write else self._read_sessions)()
        try:
            yield session
            session.commit()
        except BaseException as exc:
            session.rollback()
            domain = _domain_error(exc)
            if domain is None:
                raise
            raise domain from exc
        finally:
            session.close()

    def upgrade(self, revision: str = "head") -> None:
        """Run the alembic migrations up to `revision` in one locked transaction."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        try:
            with self._writer.begin() as connection:
                if self.url.get_backend_name() == "postgresql":
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                       {"key": _PG_MIGRATION_LOCK})
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
        except SQLAlchemyError as exc:
            raise _domain_error(exc) from exc

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"


def open_database(settings: Settings) -> Database:
    """A handle on the configured database, migrated to the latest schema."""
    db = Database.from_settings(settings)
    db.upgrade()
    return db


def get_row(session: Session, row_type: type[T], row_id: int, missing: type[NotFoundError],
            *, for_update: bool = False) -> T:
    """The row with this id (locked for update if asked), else the `missing` error."""
    row = session.get(row_type, row_id, with_for_update=for_update or None)
    if row is None:
        raise missing(row_id)
    return row


def check_choice(value: str, allowed: tuple[str, ...], what: str) -> str:
    """`value` if it is one of `allowed`, else a ValueError naming the allowed values."""
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def _create_engine(url, echo: bool) -> Engine:
    """An engine; SQLite gets WAL, a busy timeout, foreign keys and explicit BEGINs."""
    if url.get_backend_name() != "sqlite":
        return create_engine(url, echo=echo, pool_pre_ping=True)
    kwargs = {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}
    if _is_memory(url):
        kwargs = {"connect_args": {"check_same_thread": False}, "poolclass": StaticPool}
    engine = create_engine(url, echo=echo, **kwargs)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _sqlite_on_connect(dbapi_connection, _record) -> None:
    """Hand BEGIN to SQLAlchemy and set the pragmas (busy timeout first, then WAL)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _set_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _set_wal(cursor, timeout_s: float = SQLITE_BUSY_TIMEOUT_MS / 1000) -> None:
    """PRAGMA journal_mode = WAL, retried for up to `timeout_s` while the file is locked.

    Switching a fresh file to WAL needs an exclusive lock. When two connections race
    for it, SQLite answers one with an immediate "database is locked" (deadlock
    avoidance bypasses the busy timeout), so processes opening a new database together
    must retry here.
    """
    deadline = time.monotonic() + timeout_s
    delay = 0.01
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if not ("locked" in str(exc) or "busy" in str(exc)) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(2 * delay, 0.25)


def _sqlite_on_begin(connection) -> None:
    """Emit BEGIN, or BEGIN IMMEDIATE for connections from the writer engine."""
    mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def _is_memory(url) -> bool:
    """Whether a SQLite URL names an in-memory database."""
    return url.database in (None, "", ":memory:")


def _domain_error(exc: BaseException) -> StorageError | None:
    """The StorageError for a raw SQLAlchemy error, or None to re-raise `exc` unchanged."""
    if isinstance(exc, StorageError) or not isinstance(exc, SQLAlchemyError):
        return None
    detail = str(exc.orig) if isinstance(exc, DBAPIError) else str(exc)
    if isinstance(exc, IntegrityError):
        return IntegrityViolation(f"constraint violated: {detail}")
    if isinstance(exc, OperationalError) and ("locked" in detail or "busy" in detail):
        return DatabaseBusy(f"database busy past its timeout: {detail}")
    return StorageError(f"database error: {detail}")
