"""Alembic environment: migrates the connection Database.upgrade passes, else the settings."""
from __future__ import annotations

from alembic import context

from storage.tables import Base

target_metadata = Base.metadata


def _configure(**kwargs) -> None:
    """Configure alembic against the table metadata."""
    context.configure(target_metadata=target_metadata, compare_type=True, **kwargs)


def _url() -> str:
    """sqlalchemy.url from the alembic config, else AGEREC_DATABASE_URL / the default."""
    from storage.settings import Settings

    return context.config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url


def run_offline() -> None:
    """Emit the migration SQL without connecting."""
    url = _url()
    _configure(url=url, literal_binds=True, render_as_batch=url.startswith("sqlite"))
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    """Run the migrations on the given connection, or on a fresh Database's engine."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    from storage.db import Database

    db = Database(_url())
    try:
        with db.engine.connect() as connection:
            _migrate(connection)
            connection.commit()
    finally:
        db.dispose()


def _migrate(connection) -> None:
    """Run the migrations inside the connection's transaction."""
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
