"""A day's per-ticket work in chunks that executor workers run side by side.

A chunked asset is a graph of three ops: `day_chunks` splits the day's tickets into ranges of ticket ids, an op mapped
over the ranges works each one, and a last op stores what they made in one write of the day. On Celery workers each
range is a step that any free worker takes; in one process the ranges run one after another.

Chunks are coarse, NIGHTSHIFT_CHUNK_TICKETS (5,000) tickets each: on a worker every step costs seconds (it loads the
run, builds its resources and sends its events back), so thousands of small steps would cost more than they save.
A chunk's result is one file of its own step (resources/chunk_results), so a chunk run twice replaces it, and the last
op replaces the day from the results: the stored day is the same however often a chunk ran.
"""

import os
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg

from nightshift.orchestration.partitions import partition_day
from nightshift.resources.warehouse import DuckDBWarehouse

CHUNK_TICKETS = "NIGHTSHIFT_CHUNK_TICKETS"
TICKETS_PER_CHUNK = 5000


def tickets_per_chunk() -> int:
    return max(1, int(os.environ.get(CHUNK_TICKETS) or TICKETS_PER_CHUNK))


@dataclass(frozen=True)
class Chunk:
    """The tickets of a day with ``first <= ticket_id < until`` (None: unbounded on that side)."""

    index: int
    first: str | None = None
    until: str | None = None

    @property
    def key(self) -> str:
        return f"chunk_{self.index}"


def split(starts: list[str]) -> list[Chunk]:
    """Chunks from the first ticket id of each; one unbounded chunk for a day with no tickets, so the day's last op
    still runs and records that there was nothing."""
    if not starts:
        return [Chunk(0)]
    return [Chunk(i, first, starts[i + 1] if i + 1 < len(starts) else None) for i, first in enumerate(starts)]


@dg.op(ins={"after": dg.In(dg.Nothing)}, out=dg.DynamicOut(Chunk))
def day_chunks(context: dg.OpExecutionContext, warehouse: DuckDBWarehouse) -> Iterator[dg.DynamicOutput]:
    """The day's tickets as ranges of ticket ids, NIGHTSHIFT_CHUNK_TICKETS each."""
    for chunk in split(warehouse.tickets.chunk_starts(partition_day(context), tickets_per_chunk())):
        yield dg.DynamicOutput(chunk, mapping_key=chunk.key)
