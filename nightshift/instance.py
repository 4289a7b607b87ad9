"""The Dagster instance the CLI records its runs in, so they show up in the UI."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import dagster as dg

from nightshift.home import Home

# The repository's instance settings; present in a source checkout (the supported install is editable).
REPO_DAGSTER_YAML = Path(__file__).resolve().parent.parent / "dagster.yaml"


def dagster_home(home: Home) -> Path:
    """DAGSTER_HOME if set, else ``$NIGHTSHIFT_HOME/dagster`` with the repository's dagster.yaml in it."""
    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"])
    target = home.dagster
    target.mkdir(parents=True, exist_ok=True)
    if REPO_DAGSTER_YAML.exists():
        shutil.copyfile(REPO_DAGSTER_YAML, target / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(target)
    return target


def cli_instance(home: Home) -> dg.DagsterInstance:
    dagster_home(home)
    return dg.DagsterInstance.get()
