"""Domain errors raised by storage; raw SQLAlchemy errors never leave the package."""
from __future__ import annotations


class StorageError(Exception):
    """Base class of every error raised by the storage layer."""


class NotFoundError(StorageError, LookupError):
    """A row looked up by id does not exist."""

    entity = "row"

    def __init__(self, entity_id: object):
        self.id = entity_id
        super().__init__(f"{self.entity} {entity_id!r} does not exist")


class SourceNotFound(NotFoundError):
    """No dataset source with this id."""

    entity = "dataset source"


class DatasetNotFound(NotFoundError):
    """No prepared dataset with this id."""

    entity = "dataset"


class JobNotFound(NotFoundError):
    """No job with this id."""

    entity = "job"


class RunNotFound(NotFoundError):
    """No run with this id."""

    entity = "run"


class JobStateError(StorageError):
    """The job's current status does not allow the requested change."""


class IntegrityViolation(StorageError):
    """A write broke a database constraint (unique key, foreign key, not-null)."""


class DatabaseBusy(StorageError):
    """The database stayed locked past its busy timeout."""


class ArtifactPathError(StorageError, ValueError):
    """A path escapes the directory it must stay under."""
