"""When a route's answers are due, and when a batch will miss that: the rule the sensor rescues batches by."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from nightshift.llm.deadlines import parse_deadlines

DAY = date(2026, 11, 1)
DUE = datetime(2026, 11, 2, 7, 0, tzinfo=UTC)


def test_deadlines_per_route_take_the_earliest_of_a_batch():
    deadlines = parse_deadlines("small_model=08:00, frontier=07:00")
    assert deadlines.due(DAY, ["small_model"]) == DUE + timedelta(hours=1)
    assert deadlines.due(DAY, ["frontier", "small_model"]) == DUE
    assert deadlines.due(DAY, ["realtime"]) is None
    assert parse_deadlines("07:00", days=0).due(DAY, ["realtime"]) == DUE - timedelta(days=1)
    assert parse_deadlines("07:00,frontier=06:30").at == {"*": time(7), "frontier": time(6, 30)}
    with pytest.raises(ValueError, match="HH:MM"):
        parse_deadlines("small_model=7am")
    with pytest.raises(ValueError, match="rescue share"):
        parse_deadlines("07:00", rescue_share=1.5)


def test_a_batch_is_late_past_the_rescue_point_or_expired_but_never_when_sent_after_the_deadline():
    deadlines = parse_deadlines("07:00", rescue_share=0.8)
    sent = DUE - timedelta(hours=10)
    late = lambda status, now, submitted=sent: deadlines.late(DAY, ["frontier"], submitted.replace(tzinfo=None), status, now)  # noqa: E731
    assert not late("in_progress", sent + timedelta(hours=7, minutes=59))
    assert late("in_progress", sent + timedelta(hours=8))
    assert late("validating", DUE + timedelta(hours=1))
    assert not late("completed", DUE)  # finished: nothing to rescue
    assert late("expired", sent + timedelta(hours=1))
    assert not late("in_progress", DUE + timedelta(hours=3), submitted=DUE + timedelta(hours=1))  # a backfill: nothing to meet
    assert not late("expired", DUE + timedelta(hours=30), submitted=DUE + timedelta(hours=1))
