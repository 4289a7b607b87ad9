"""One ticket's journey as a person reads it: where it landed, what was redacted, how it was triaged and screened, what
was retrieved for it, every request made about it with each attempt's error, the answer, what it cost, and the checks
of its day. Markdown, so the same text prints in a terminal and renders in the Dagster UI."""

from __future__ import annotations

import re
from collections import Counter

from nightshift.lib.markdown import markdown_table
from nightshift.lib.words import plural

PLACEHOLDER = re.compile(r"\[([A-Z][A-Z_]+)\]")  # what redaction leaves in place of an identifier: [EMAIL], [PHONE], ...


def redactions_by_kind(text: str) -> Counter:
    return Counter(PLACEHOLDER.findall(text or ""))


def cell(value: object) -> str:
    """A table cell: one line, and a pipe in the data does not end it."""
    return "" if value is None else " ".join(str(value).split()).replace("|", "\\|")


def dollars(value: float | None) -> str:
    return "" if value is None else f"${value:.6f}"


def markdown(journey: dict, attempts: list[dict], dimensions: int | None = None, looked_up: bool = True) -> str:
    """The journey of a ticket (a JourneySQL row), the requests made about it (its attempts, in order) and the
    dimensions of its stored vector (None: not embedded; ``looked_up`` False: LanceDB was not asked)."""
    j = journey
    kinds = redactions_by_kind(j["text_redacted"])
    lines = [f"## Ticket {j['ticket_id']} ({j['day']})", "",
             f"- **Landed**: {j['source_file']}" + (f", line {j['source_line']}" if j["source_line"] is not None else "")
             + f"; created {j['created_at']}" + (f" via {j['channel']}" if j["channel"] else ""),
             f"- **Redacted**: {j['redactions']}" + (" (" + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ")" if kinds else ""),
             f"- **Embedded**: {dimensions} dimensions in LanceDB" if dimensions else
             "- **Embedded**: no vector stored" if looked_up else "- **Embedded**: not looked up (--vector asks LanceDB)"]
    if j["route"] is None:
        lines.append("- **Triage**: not yet")
    else:
        cache = f"; nearest cache entry from {j['cache_ticket_id']} at similarity {j['cache_similarity']:.3f}" if j["cache_ticket_id"] else ""
        lines += [f"- **Triage** (model {j['model_version']}): {j['category']} at confidence {j['confidence']:.3f}",
                  f"- **Route**: {j['route']}, because {j['reason']}{cache}"]
    screened = [f"held for {j['prefilter']}" if j["prefilter"] else "", f"noted {j['noted']}" if j["noted"] else "",
                f"injection score {j['injection_score']:.2f}" if j["injection_score"] is not None else "",
                "sent to the classifier" if j["sampled"] else "",
                f"classifier: {j['verdict'] or 'clean'}" + (f" ({j['verdict_reason']})" if j["verdict_reason"] else "")
                if j["verdict"] is not None else ""]
    lines.append("- **Safety**: " + ("; ".join(s for s in screened if s) or "nothing found"))
    passages = ", ".join(f"{p['rank']}. {p['title']} ({p['chunk_id']}, {p['similarity']:.2f})" for p in j["passages"])
    lines += [f"- **Retrieved**: {passages or 'no passage'}", "", "### Requests", ""]
    lines.append(markdown_table(
        ("#", "kind", "attempt", "mode", "model asked", "batch (status): custom id", "status", "error", "tokens in/out", "$"),
        [(n, a["kind"], a["attempt"], a["mode"] + (", rescued" if a["rescued"] else ""), a["model"],
          (f"{a['batch_id']} ({a['batch_status']}): " if a["batch_id"] else "") + a["custom_id"],
          a["status"] + (", superseded" if a["superseded_at"] else ""),
          cell(a["error"]), f"{a['input_tokens']}/{a['output_tokens']}", dollars(a["usd"])) for n, a in enumerate(attempts, start=1)],
        "no request: " + ("served from the cache" if j["source"] == "cache" else "held for a person" if j["source"] == "human" else "none yet")))
    lines += ["", "### Answer", ""]
    if j["status"] is None:
        lines.append("not collected yet")
    else:
        lines += [f"- **Status**: {j['status']} from {j['source']}" + (f", written by {j['model']}" if j["model"] else "")
                  + f", {plural(j['attempts'], 'attempt')}" + (f"; held: {j['hold_reason']}" if j["hold_reason"] else "")
                  + (f"; error: {cell(j['error'])}" if j["error"] else "")
                  + ("; a probe of a cache entry on probation" if j.get("cache_probe") else "")
                  + (f"; the cheap answer was taken back: {cell(j['replaced_because'])}" if j.get("replaced_because") else ""),
                  f"- **Reply**: {cell(j['draft_reply'])}" if j["draft_reply"] else "- **Reply**: none",
                  f"- **Cites**: {j['citations']} ({j['cited_titles']}); grounded: {j['grounded']}" if j["citations"] else "- **Cites**: nothing",
                  f"- **Cost**: {dollars(j['usd'])} for {j['input_tokens']} tokens in and {j['output_tokens']} out, against "
                  f"{dollars(j['frontier_sync_usd'])} on the frontier model synchronously"
                  + (f"; rescued at the deadline for {dollars(j['rescue_usd'])} more" if j["rescued"] else "")]
    if j.get("admitted") is not None:
        lines.append(f"- **Answer cache**: admitted, {j['trust']}" if j["admitted"] else f"- **Answer cache**: refused: {cell(j['refused_because'])}")
    lines += ["", f"### Checks of {j['day']}", ""]
    lines.append(markdown_table(("asset", "check", "result"), [
        (c["asset"], c["check_name"], "passed" if c["passed"] else "failed" if c["severity"] == "ERROR" else "warned")
        for c in j["checks"]], "none recorded yet"))
    return "\n".join(lines)


def failures(day: str, failed: list[dict]) -> str:
    """The day's failed and held tickets, with the reason each has no answer to send."""
    return markdown_table(("ticket", "route", "status", "attempts", "why"),
                          [(f["ticket_id"], f["route"], f["status"], f["attempts"], cell(f["reason"])) for f in failed],
                          f"no failed or held ticket on {day}")
