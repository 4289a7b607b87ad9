"""What the chunks of a chunked asset hand to its last op: files under the run's id, deleted once the day is stored."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path
from typing import Any

import dagster as dg
import pyarrow as pa
import pyarrow.feather as feather


class ChunkResults(dg.ConfigurableIOManager):
    """Arrow tables as uncompressed Arrow files (read back without a copy), anything else (a chunk's description) pickled.

    Each output is one file named by its run and step, so a chunk that runs again replaces its own result and nothing
    else. The root must be a directory every worker sees (it is under NIGHTSHIFT_HOME)."""

    root: str

    def _path(self, run_id: str, step_key: str, name: str) -> Path:
        return Path(self.root) / run_id / f"{step_key}.{name}"

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is None:  # the asset's own output: what it stored is in DuckDB or LanceDB
            return
        path = self._path(context.run_id, context.step_key, context.name)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial")
        # Written aside and renamed: a step killed mid-write leaves no half file for the last op to read.
        if isinstance(obj, pa.Table):
            feather.write_feather(obj, str(partial), compression="uncompressed")
        else:
            partial.write_bytes(pickle.dumps(obj))
        partial.replace(path)

    def load_input(self, context: dg.InputContext) -> Any:
        upstream = context.upstream_output
        assert upstream is not None
        path = self._path(upstream.run_id, upstream.step_key, upstream.name)
        data = path.read_bytes()
        if data[:6] == b"ARROW1":
            return feather.read_table(str(path), memory_map=True)
        return pickle.loads(data)

    def clear(self, run_id: str) -> None:
        """Delete a run's results."""
        shutil.rmtree(Path(self.root) / run_id, ignore_errors=True)

    def clear_after(self, context: dg.OpExecutionContext) -> None:
        """Delete the results the last op of a chunked asset read, once it has stored the day and made its metadata (the
        last thing it does: a failure before leaves them for a re-execution). A run re-executed from failure reads the
        chunks of the run it re-executes, so those of its parent and its root run go too."""
        run = context.run
        for run_id in {run.run_id, run.parent_run_id, run.root_run_id}:
            if run_id:
                self.clear(run_id)
