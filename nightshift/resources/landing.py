"""The landing zone: one folder of ticket files per day, read through a column mapping."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import dagster as dg
from pydantic import Field

from nightshift.ingest.files import FALLBACK_ENCODING, Formats, read_day
from nightshift.ingest.mapping import parse_map
from nightshift.ingest.redaction import PHONE_REGIONS
from nightshift.ingest.rules import DayBatch, Rules, normalize_day


class LandingZone(dg.ConfigurableResource):
    """``<root>/<YYYY-MM-DD>/`` folders of CSV, JSONL or Parquet ticket files."""

    root: str = Field(description="Landing zone directory; each day is a subfolder named YYYY-MM-DD.")
    mapping: str = Field(
        default="",
        description="Source columns as field=COLUMN pairs, e.g. 'text=instruction,label=intent'. "
        "Fields: id, subject, text (or body), created_at, customer, channel, label, priority. "
        "Unmapped fields use a column of their own name when there is one.",
    )
    created_at_format: str | None = Field(
        default=None, description="strptime format of created_at when it is neither ISO 8601 nor a known export format."
    )
    max_text_chars: int = Field(default=20_000, description="Longer tickets are quarantined, not truncated.")
    phone_regions: str = Field(default=",".join(PHONE_REGIONS),
                               description="Regions (ISO 3166 codes) whose national phone formats are redacted; +country and 00 numbers always are.")

    keep_quarantine_raw: bool = Field(default=False, description="Store a quarantined row's raw text as read (it may hold personal "
                                      "data the row never got far enough to have redacted); by default it is redacted.")
    encoding: str = Field(default=FALLBACK_ENCODING, description="Encoding of files that are neither UTF-8 nor carry a byte-order "
                          "mark (Excel and older help desks write cp1252 on Western systems).")
    delimiter: str = Field(default="", description="CSV delimiter; empty: the one of , ; tab | the header line holds most of.")

    def day_folder(self, day: date) -> Path:
        return Path(self.root) / day.isoformat()

    def read(self, day: date) -> DayBatch:
        rules = Rules(self.max_text_chars, self.created_at_format, tuple(r.strip().upper() for r in self.phone_regions.split(",") if r.strip()),
                      self.keep_quarantine_raw)
        formats = Formats(self.encoding, self.delimiter or None)
        return normalize_day(read_day(self.day_folder(day), Path(self.root), formats), day, parse_map(self.mapping), rules)
