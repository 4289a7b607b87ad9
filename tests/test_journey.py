"""The journey as printed: redactions by kind, data that cannot break its table, and the stages not yet run."""

from datetime import date

from nightshift.observability.journey import failures, markdown, redactions_by_kind

DAY = date(2026, 11, 1)
LANDED = {"ticket_id": "T1", "day": DAY, "created_at": "2026-11-01 06:30:00", "source_file": "2026-11-01/a.csv", "source_line": 7,
          "text_redacted": "Mail [EMAIL] or call [PHONE], not [PHONE].", "redactions": 3, "channel": None,
          "passages": [], "checks": []}
NOT_YET = dict.fromkeys(("category", "confidence", "route", "reason", "cache_ticket_id", "cache_similarity", "model_version",
                         "prefilter", "noted", "injection_score", "sampled",
                         "verdict", "verdict_reason", "status", "source", "model", "attempts", "error",
                         "hold_reason", "draft_reply", "citations", "cited_titles", "grounded", "cache_entry_id", "input_tokens",
                         "output_tokens", "usd", "frontier_sync_usd", "rescued", "rescue_usd"))


def test_a_ticket_only_ingested_says_what_has_not_happened_yet():
    text = markdown({**LANDED, **NOT_YET}, [])
    assert "2026-11-01/a.csv, line 7" in text and "**Redacted**: 3 (EMAIL 1, PHONE 2)" in text
    assert "**Embedded**: no vector stored" in text and "**Triage**: not yet" in text
    assert "no request: none yet" in text and "not collected yet" in text
    assert redactions_by_kind("[IBAN] [IBAN] [EMAIL] [offline responder, no model]") == {"IBAN": 2, "EMAIL": 1}


def test_an_error_with_a_pipe_or_a_line_break_stays_in_its_cell():
    attempt = {"kind": "reply", "custom_id": "T1", "attempt": 1, "mode": "batch", "model": "m", "batch_id": "b1", "batch_status": "completed",
               "status": "failed", "error": "HTTP 500: a | b\nc", "input_tokens": 1, "output_tokens": 2, "usd": 0.5,
               "rescued": False, "superseded_at": None}
    row = next(line for line in markdown({**LANDED, **NOT_YET}, [attempt]).splitlines() if line.startswith("| 1 |"))
    assert "HTTP 500: a \\| b c" in row and "b1 (completed): T1" in row and row.count(" | ") == 9
    assert failures("2026-11-01", []) == "no failed or held ticket on 2026-11-01"
