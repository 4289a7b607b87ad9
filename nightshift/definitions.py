"""The one Definitions object: `dagster dev` loads it from [tool.dagster] in pyproject.toml."""

from __future__ import annotations

import dagster as dg

from nightshift.assets.cache import cached_answers
from nightshift.assets.digest import daily_digest
from nightshift.assets.embeddings import ticket_embeddings
from nightshift.assets.ingest import raw_tickets
from nightshift.assets.reports import daily_cost_and_quality
from nightshift.assets.responses import ticket_responses
from nightshift.assets.synthesis import synthesis_batches
from nightshift.assets.triage import ticket_triage, triage_model
from nightshift.checks.answers import needs_human_share, responses_match_schema
from nightshift.checks.budget import day_projected_within_budget, day_spent_within_budget
from nightshift.checks.drift import category_mix_drift
from nightshift.checks.embeddings import embeddings_match_tickets
from nightshift.checks.privacy import requests_carry_no_pii, responses_carry_no_pii
from nightshift.checks.suites import digest_expectations, responses_expectations, tickets_expectations, triage_expectations
from nightshift.home import Home
from nightshift.orchestration.jobs import collect_job, ingest_job, nightly_job
from nightshift.orchestration.schedules import nightly_schedule
from nightshift.orchestration.sensors import batch_sensor
from nightshift.settings import resources_for


def build_definitions(home: Home, mapping: str | None = None) -> dg.Definitions:
    """The code location for a home; the CLI builds it with its own --map."""
    return dg.Definitions(
        assets=[raw_tickets, ticket_embeddings, triage_model, ticket_triage, synthesis_batches, ticket_responses, cached_answers,
                daily_digest, daily_cost_and_quality],
        asset_checks=[
            tickets_expectations, embeddings_match_tickets, triage_expectations, day_projected_within_budget, category_mix_drift,
            requests_carry_no_pii, responses_expectations, responses_match_schema, responses_carry_no_pii, needs_human_share,
            day_spent_within_budget, digest_expectations,
        ],
        jobs=[ingest_job, nightly_job, collect_job],
        schedules=[nightly_schedule],
        sensors=[batch_sensor],
        resources=resources_for(home, mapping),
    )


defs = build_definitions(Home.from_env())
