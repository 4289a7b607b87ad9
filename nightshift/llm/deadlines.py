"""Deadlines: when a day's answers are due, per route, and when a batch will miss them.

A batch has up to 24 hours; a support team wants its answers by the morning. Each route may have a time of day (UTC) on
the day after its tickets' day (or ``days`` after) by which its answers are due. A batch still running after
``rescue_share`` of its time from submit to deadline, or one that expired, will miss it: the sensor cancels it and the
collection asks its unanswered requests synchronously, at full price. A batch submitted after its deadline (a backfill
of old days) has no deadline left to meet and is left to finish: paying full price would buy nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from nightshift.llm.engine import TERMINAL

EVERY_ROUTE = "*"


@dataclass(frozen=True)
class Deadlines:
    at: dict[str, time]  # route (or * for every route) -> time of day, UTC
    days: int = 1
    rescue_share: float = 0.8

    def due(self, day: date, routes: Iterable[str]) -> datetime | None:
        """When the answers of a batch for ``day`` whose requests answer ``routes`` are due: the earliest of their
        deadlines; None when no route has one."""
        times = [self.at[r] for r in routes if r in self.at] or ([self.at[EVERY_ROUTE]] if EVERY_ROUTE in self.at else [])
        if not times:
            return None
        return datetime.combine(day + timedelta(days=self.days), min(times), tzinfo=UTC)

    def late(self, day: date, routes: Iterable[str], submitted_at: datetime, status: str, now: datetime) -> bool:
        """Whether a batch will miss its deadline: expired, or still running past the rescue point. Times are UTC."""
        due = self.due(day, routes)
        submitted = submitted_at if submitted_at.tzinfo else submitted_at.replace(tzinfo=UTC)
        if due is None or submitted >= due:
            return False
        if status == "expired":
            return True
        return status not in TERMINAL and now >= submitted + self.rescue_share * (due - submitted)


def parse_deadlines(text: str, days: int = 1, rescue_share: float = 0.8) -> Deadlines:
    """``07:00`` (every route) or ``small_model=08:00,frontier=07:00[:30]``, as NIGHTSHIFT_DEADLINES is written."""
    if not 0 < rescue_share <= 1:
        raise ValueError(f"the rescue share is a fraction of the time to the deadline, in (0, 1]; got {rescue_share}")
    at = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        route, _, clock = item.rpartition("=")
        try:
            at[route.strip() or EVERY_ROUTE] = time.fromisoformat(clock.strip())
        except ValueError:
            raise ValueError(f"a deadline is a UTC time of day, HH:MM[:SS], for every route or as route=HH:MM; got {item!r}") from None
    return Deadlines(at, days, rescue_share)
