"""Tests for storage.errors."""
from __future__ import annotations

import pytest

from storage.errors import (ArtifactPathError, DatasetNotFound, JobNotFound, NotFoundError,
                            RunNotFound, SourceNotFound, StorageError)


@pytest.mark.parametrize("error, entity", [(DatasetNotFound, "dataset"), (JobNotFound, "job"),
                                           (RunNotFound, "run"),
                                           (SourceNotFound, "dataset source")])
def test_not_found_names_entity_and_id(error, entity):
    """Check that a not-found error names the entity and the id, and keeps the id."""
    exc = error(42)
    assert str(exc) == f"{entity} 42 does not exist"
    assert exc.id == 42


def test_not_found_is_storage_and_lookup_error():
    """Check that not-found errors can be caught as StorageError or as LookupError."""
    assert issubclass(JobNotFound, NotFoundError)
    assert issubclass(JobNotFound, StorageError)
    assert issubclass(JobNotFound, LookupError)


def test_artifact_path_error_is_value_error():
    """Check that ArtifactPathError is both a StorageError and a ValueError."""
    assert issubclass(ArtifactPathError, StorageError)
    assert issubclass(ArtifactPathError, ValueError)
