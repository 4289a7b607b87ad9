"""Every check's outcome goes to the Dagster UI and to DuckDB `check_results`, so pass rates are data too."""

import json
from datetime import date

import dagster as dg

from nightshift.observability import tracing
from nightshift.orchestration.metadata import typed
from nightshift.orchestration.partitions import partition_day
from nightshift.resources.warehouse import DuckDBWarehouse


def conclude(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBWarehouse, passed: bool, metadata: dict,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR, check: str | None = None, said: str | None = None,
) -> dg.AssetCheckResult:
    """Record the day's outcome of the running check (replacing an earlier one) and return it to Dagster.

    ``check`` names the spec when the running op evaluates several (the gates); ``said`` follows the verdict in the UI.
    """
    (spec,) = [s for s in context.check_specs if check in (None, s.name)]
    return record(warehouse, partition_day(context), spec.asset_key.to_user_string(), spec.name,
                  passed, metadata, severity, said)


def record(
    warehouse: DuckDBWarehouse, day: date, asset: str, check_name: str, passed: bool, metadata: dict,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR, said: str | None = None,
) -> dg.AssetCheckResult:
    """Any check's outcome, including one that rides on its asset's materialization, as a row and as a result."""
    plain = {k: v.value if isinstance(v, dg.MetadataValue) else v for k, v in metadata.items()}
    figures = {k: v for k, v in plain.items() if isinstance(v, (bool, int, float, str))}
    warehouse.reports.record_check(day, asset, check_name, bool(passed), severity.value, json.dumps(figures, sort_keys=True))
    verdict = "passed" if passed else "failed" if severity == dg.AssetCheckSeverity.ERROR else "warned"
    tracing.span(f"check {asset}.{check_name}", {"nightshift.check": check_name, "nightshift.asset": asset, tracing.STATUS: verdict,
                                                 tracing.DAY: day.isoformat()}, failed=None if passed else verdict)
    return dg.AssetCheckResult(asset_key=asset, check_name=check_name, passed=bool(passed), severity=severity,
                               metadata=typed(metadata), description=f"{verdict} for {day}" + (f": {said}" if said else ""))
