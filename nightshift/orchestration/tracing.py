"""A span around every execution of an asset or a check, in its run's trace (see observability/tracing): the decorator
goes under ``@dg.asset`` or ``@dg.asset_check``, and costs one environment lookup when no endpoint is set."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import dagster as dg

from nightshift.observability import tracing


def step_name(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> str:
    if isinstance(context, dg.AssetCheckExecutionContext):
        return "check " + ", ".join(f"{s.asset_key.to_user_string()}.{s.name}" for s in context.check_specs)
    return f"asset {context.asset_key.to_user_string()}"


def scope(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> AbstractContextManager:
    if not tracing.enabled():
        return nullcontext()
    try:
        run_id = context.run.run_id
    except dg.DagsterInvalidPropertyError:  # invoked directly, outside a run
        run_id = None
    return tracing.step(step_name(context), run_id, context.partition_key if context.has_partition_key else None)


def traced(fn: Callable) -> Callable:
    if inspect.isgeneratorfunction(fn):  # a check op that yields its results
        @functools.wraps(fn)
        def each(context, *args, **kwargs):
            with scope(context):
                yield from fn(context, *args, **kwargs)
        return each

    @functools.wraps(fn)
    def once(context, *args, **kwargs):
        with scope(context):
            return fn(context, *args, **kwargs)
    return once
