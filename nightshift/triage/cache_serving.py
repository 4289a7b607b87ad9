"""Which cache entries may serve tonight's tickets: an entry's record decides, not only its similarity.

After vCache (Schroeder et al., 2025): each entry keeps its own record of judged serves, (similarity, correct) pairs,
and what it may do follows from that record under an error bound. A night judges 5 to 10 serves, too few to fit
vCache's per-entry curve, so the record moves an entry between three standings instead:

- verified: a frontier answer (what the cache stands in for), a small-model answer the judge agreed with, or an entry
  with a judged serve that was correct. It serves any ticket of its category at or above the calibrated threshold.
- probation: a small-model answer nobody has checked. It serves only as a probe: one ticket a night, whose serve is
  always shadow-judged before it is given (the frontier's own answer goes out if the judge disagrees), and at most
  ``probes`` probes a night, the entries with the most tickets waiting first.
- retired: a judged serve was wrong. It never serves again (and is deleted from the cache).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from nightshift.triage.admission import PROBATION, VERIFIED

RETIRED = "retired"


@dataclass(frozen=True)
class Record:
    """An entry's standing when it was written, and its judged serves on earlier days."""

    trust: str               # verified | probation, as admitted
    correct: int = 0
    wrong: int = 0

    @property
    def standing(self) -> str:
        if self.wrong:
            return RETIRED
        return VERIFIED if self.trust == VERIFIED or self.correct else PROBATION

    @property
    def judged(self) -> int:
        return self.correct + self.wrong


@dataclass(frozen=True)
class Match:
    """A ticket's nearest cache entry."""

    entry_id: str
    similarity: float
    category: str            # the category the entry's answer was admitted under


@dataclass(frozen=True)
class Serve:
    entry_id: str
    similarity: float
    category: str
    probe: bool              # on probation: shadow-judged before it is given
    judged: int              # judged serves on the entry's record: the shadow sample prefers the least known


def serves(matches: Sequence[Match | None], categories: Sequence[str], records: dict[str, Record], threshold: float,
           probes: int) -> list[Serve | None]:
    """Per ticket, the entry that may serve it, if its similarity clears the router's threshold (None: none may). An
    entry serves only a ticket whose predicted category is the entry's; a probation entry serves one ticket a night as a
    probe, at or above ``threshold``, within ``probes`` a night."""
    record = lambda m: records.get(m.entry_id, Record(PROBATION))  # noqa: E731
    fits = [m if m is not None and m.category == c and record(m).standing != RETIRED else None for m, c in zip(matches, categories)]
    waiting = Counter(m.entry_id for m in fits if m is not None and record(m).standing == PROBATION and m.similarity >= threshold)
    # The probation entries with the most tickets waiting are probed first: a correct probe frees them all tomorrow.
    probed = {entry for entry, _ in sorted(waiting.items(), key=lambda kv: (-kv[1], kv[0]))[:max(0, probes)]}
    chosen: list[Serve | None] = []
    for m in fits:
        on_probation = m is not None and record(m).standing == PROBATION
        if m is None or (on_probation and (m.entry_id not in probed or m.similarity < threshold)):
            chosen.append(None)
            continue
        if on_probation:
            probed.discard(m.entry_id)  # one probe per entry a night: its first ticket in order
        chosen.append(Serve(m.entry_id, m.similarity, m.category, on_probation, record(m).judged))
    return chosen
