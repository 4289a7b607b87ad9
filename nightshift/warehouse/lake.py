"""A DuckLake: the warehouse's tables as Parquet files on shared storage, with their catalog in PostgreSQL.

Unlike a DuckDB file, which one process at a time may write, a lake takes writers from many processes and machines:
each commit is a new snapshot in the catalog, and DuckLake itself retries a commit that raced another without
touching the same data. The extensions come from PyPI packages built for this DuckDB (it loads only extensions of its
own version), so nothing is downloaded when a lake is attached.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from pathlib import Path

import duckdb

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


def attach(catalog: str, data_path: str) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the lake attached and in use."""
    con = duckdb.connect()
    for name in EXTENSIONS:
        con.load_extension(extension_file(name))
    if "://" not in data_path:
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
