"""What a command or task needs from the outside world: settings and the database."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from storage.db import Database, open_database
from storage.paths import ArtifactPaths
from storage.settings import Settings


@dataclass
class AppContext:
    """Settings plus a database handle opened (and migrated) on first use."""

    settings: Settings = field(default_factory=Settings.from_env)

    @cached_property
    def db(self) -> Database:
        self.settings.ensure_home()
        return open_database(self.settings)

    @property
    def paths(self) -> ArtifactPaths:
        return ArtifactPaths(self.settings.home)
