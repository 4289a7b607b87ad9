"""The quick commands load no pipeline: a query must not wait seconds for Dagster, scikit-learn or a provider client.
(How long they take is measured by `python -m bench.cli_startup`, not asserted here.)"""

import subprocess
import sys

import pytest

from nightshift.lib.home import Home
from nightshift.warehouse.database import Warehouse

HEAVY = ("dagster", "sklearn", "scipy", "openai", "anthropic", "lancedb", "onnxruntime", "great_expectations", "matplotlib", "pandas")
# Runs a command in-process, then prints the top-level modules it loaded (a name imported and found absent is not one).
LOADED = ("import runpy, sys\nsys.argv = ['nightshift', *sys.argv[1:]]\ntry:\n    runpy.run_module('nightshift.app.cli', run_name='__main__')\n"
          "except SystemExit:\n    pass\nprint(' '.join(n for n, m in sys.modules.items() if m is not None and '.' not in n), file=sys.stderr)")


def imported(home: Home, *args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", LOADED, *args], capture_output=True, text=True,
                          env={"NIGHTSHIFT_HOME": str(home.root), "PATH": "/usr/bin:/bin"})
    return set(done.stderr.splitlines()[-1].split())


@pytest.fixture
def written(tmp_path) -> Home:
    """A home whose warehouse exists, with no day in it yet."""
    home = Home(tmp_path / "home")
    home.root.mkdir(parents=True)
    Warehouse(str(home.warehouse)).rows("SELECT 1")
    return home


@pytest.mark.parametrize("args", [("--help",), ("query", "SELECT 42"), ("report",), ("trace", "T-1"), ("trace", "--failed", "--day", "2026-11-01"),
                                  ("query", "--help")])
def test_quick_commands_import_no_pipeline_model_or_provider_client(written, args):
    modules = imported(written, *args)
    assert "nightshift" in modules and "typer" in modules  # the command ran
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_a_command_that_scores_tickets_still_loads_what_it_needs(written, tmp_path):
    """The check above can fail: it sees scikit-learn where a command does use it."""
    cases = tmp_path / "cases.csv"
    cases.write_text("text,label\nWhere is my parcel?,benign\n", encoding="utf-8")
    assert "sklearn" in imported(written, "eval", "safety", "--csv", str(cases))
