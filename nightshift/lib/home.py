"""Where nightshift keeps its state: one directory, ``$NIGHTSHIFT_HOME``.

Everything a night produces or reads (landing zone, DuckDB file, LanceDB directory, the Dagster
instance the CLI uses) lives under it, so a home can be moved, backed up or thrown away whole.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_HOME = Path("~/.nightshift")


@dataclass(frozen=True)
class Home:
    root: Path

    @classmethod
    def from_env(cls) -> Home:
        return cls(Path(os.environ.get("NIGHTSHIFT_HOME", DEFAULT_HOME)).expanduser().resolve())

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def vectors(self) -> Path:
        return self.root / "lancedb"

    @property
    def knowledge(self) -> Path:
        """The help centre: articles and macros the answers cite."""
        return self.root / "knowledge"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def batches(self) -> Path:
        """The local batch engine's files and batch state."""
        return self.root / "batches"

    @property
    def dagster(self) -> Path:
        return self.root / "dagster"
