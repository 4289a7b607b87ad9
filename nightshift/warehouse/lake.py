"""A DuckLake: the warehouse's tables as Parquet files on shared storage, with their catalog in PostgreSQL.

Unlike a DuckDB file, which one process at a time may write, a lake takes writers from many processes and machines:
each commit is a new snapshot in the catalog, and DuckLake itself retries a commit that raced another without
touching the same data. The extensions come from PyPI packages built for this DuckDB (it loads only extensions of its
own version), so nothing is downloaded when a lake is attached. Data files go to a directory, or to s3://... (httpfs),
with the usual AWS_* credentials.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

import duckdb

from nightshift.lib.threads import threads

PREFIX = "ducklake:"
ALIAS = "lake"
EXTENSIONS = ("ducklake", "postgres_scanner")

# Each process attaches a lake once and hands out cursors; a forked child attaches its own (a DuckDB database
# must not cross a fork).
_attached: dict[tuple[int, str, str], duckdb.DuckDBPyConnection] = {}
_attaching = threading.Lock()


def is_lake(location: str) -> bool:
    return location.startswith(PREFIX)


def is_conflict(exc: duckdb.Error) -> bool:
    """A commit that lost to another writer's conflicting one: the transaction may be run again."""
    return "conflict" in str(exc).lower()


def extension_file(name: str) -> str:
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the DuckDB extension {name} is not installed (pip package duckdb-extension-{name.replace('_', '-')})")
    found = sorted(Path(spec.submodule_search_locations[0]).glob(f"extensions/v{duckdb.__version__}/*.duckdb_extension"))
    if not found:
        raise RuntimeError(f"duckdb-extension-{name.replace('_', '-')} has no build for DuckDB {duckdb.__version__}")
    return str(found[0])


def s3_secret(con: duckdb.DuckDBPyConnection) -> None:
    """Credentials for data files on S3 (or an S3-compatible store at AWS_ENDPOINT_URL), from the usual AWS_* variables."""
    env = os.environ.get
    options = {"KEY_ID": env("AWS_ACCESS_KEY_ID"), "SECRET": env("AWS_SECRET_ACCESS_KEY"), "REGION": env("AWS_REGION")}
    endpoint = urlsplit(env("AWS_ENDPOINT_URL") or "")
    if endpoint.netloc:
        options.update(ENDPOINT=endpoint.netloc, URL_STYLE="path")
    settings = "".join(f", {key} '{value}'" for key, value in options.items() if value)
    con.execute(f"CREATE OR REPLACE SECRET nightshift_s3 (TYPE s3{settings}{', USE_SSL false' if endpoint.scheme == 'http' else ''})")


def attach(catalog: str, data_path: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached and in use."""
    count = threads()
    con = duckdb.connect(config={"threads": count} if count else {})
    remote = data_path.startswith("s3://")
    for name in (*EXTENSIONS, "httpfs") if remote else EXTENSIONS:
        con.load_extension(extension_file(name))
    if remote:
        s3_secret(con)
    elif "://" not in data_path:
        Path(data_path).mkdir(parents=True, exist_ok=True)
    con.execute(f"ATTACH '{catalog}' AS {ALIAS} (DATA_PATH '{data_path.rstrip('/')}/')")
    con.execute(f"USE {ALIAS}")
    return con


def cursor(catalog: str, data_path: str) -> duckdb.DuckDBPyConnection:
    """A connection of its own (its own transactions) on this process's attachment of the lake."""
    key = (os.getpid(), catalog, data_path)
    with _attaching:
        if key not in _attached:
            _attached[key] = attach(catalog, data_path)
        con = _attached[key].cursor()
    con.execute(f"USE {ALIAS}")
    return con
