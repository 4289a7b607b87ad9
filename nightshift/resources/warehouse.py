"""The DuckDB warehouse as a resource: the file's settings, and a gateway per table family for the assets."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from nightshift.warehouse.answer_quality import QualitySQL
from nightshift.warehouse.answers import AnswersSQL
from nightshift.warehouse.database import Warehouse
from nightshift.warehouse.journeys import JourneySQL
from nightshift.warehouse.reports import ReportsSQL
from nightshift.warehouse.ticket_context import ContextSQL
from nightshift.warehouse.ticket_safety import SafetySQL
from nightshift.warehouse.ticket_triage import TriageSQL
from nightshift.warehouse.tickets import TicketsSQL


class DuckDBWarehouse(dg.ConfigurableResource):
    """A DuckDB file, or a DuckLake, holding tickets, quarantine and every later output table."""

    path: str = Field(description="Path of the DuckDB database file, or a DuckLake catalog (ducklake:postgres:...).")
    data_path: str | None = Field(default=None, description="Where a DuckLake's Parquet files go (a shared directory or s3://...).")
    lock_wait_s: float = Field(default=120.0, description="How long to wait for another process's lock on the file, or to "
                                                          "retry a lake commit that conflicted with another writer's.")

    @property
    def db(self) -> Warehouse:
        return Warehouse(self.path, self.lock_wait_s, self.data_path)

    @property
    def tickets(self) -> TicketsSQL:
        return TicketsSQL(self.db)

    @property
    def triage(self) -> TriageSQL:
        return TriageSQL(self.db)

    @property
    def answers(self) -> AnswersSQL:
        return AnswersSQL(self.db)

    @property
    def journeys(self) -> JourneySQL:
        return JourneySQL(self.db)

    @property
    def reports(self) -> ReportsSQL:
        return ReportsSQL(self.db)

    @property
    def quality(self) -> QualitySQL:
        return QualitySQL(self.db)

    @property
    def context(self) -> ContextSQL:
        return ContextSQL(self.db)

    @property
    def safety(self) -> SafetySQL:
        return SafetySQL(self.db)
