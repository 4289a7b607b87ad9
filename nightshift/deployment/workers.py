"""Celery workers over Redis: where a night's steps run once NIGHTSHIFT_CELERY_BROKER is set.

The process that runs a job (the CLI, or Dagster's run worker) stays the orchestrator: it sends each step to the
broker, and whichever worker is free executes it, on this machine or another, writing its events to the shared
Dagster instance. Without the setting nothing here is used and a night runs in one process tree, as before.
"""

from __future__ import annotations

import os
import socket

import dagster as dg
from celery import Celery
from dagster_celery import celery_executor
from dagster_celery.config import DEFAULT_CONFIG, dict_wrapper
from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_task

BROKER = "NIGHTSHIFT_CELERY_BROKER"
QUEUE = "dagster"  # the queue dagster-celery routes steps to


def broker() -> str | None:
    """The broker's URL (redis://host:6379/0), or None: steps run in the orchestrating process tree."""
    return os.environ.get(BROKER) or None


def backend(url: str) -> str:
    """Where workers leave each step's events for the orchestrator: the broker's Redis, or NIGHTSHIFT_CELERY_BACKEND."""
    return os.environ.get("NIGHTSHIFT_CELERY_BACKEND") or url


# What the orchestrator and every worker agree on (Celery's own setting names).
SETTINGS = {
    **DEFAULT_CONFIG,
    # A worker takes one step at a time and holds no queue of its own, so a free worker gets the next step.
    "worker_prefetch_multiplier": 1,
    # A step's message is acknowledged when the step is over, not when it starts; if the process running it dies
    # (SIGKILL, the OOM killer), the message goes back on the queue and a live worker runs the step again. Every write
    # of a step replaces its day, so the second run stores what the first would have.
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "worker_send_task_events": False,
}


def executor(url: str) -> dg.ExecutorDefinition:
    """dagster-celery's executor, configured for this broker: the jobs' executor when the broker is set."""
    return celery_executor.configured({"broker": url, "backend": backend(url), "config_source": SETTINGS}, name="celery")


def app(url: str) -> Celery:
    """The workers' Celery app: the one task that executes a step, with the orchestrator's settings."""
    celery = make_app({"broker": url, "backend": backend(url), "include": [], "config_source": dict_wrapper(dict(SETTINGS))})
    create_task(celery)
    return celery


def worker_name(name: str | None) -> str:
    """A name unique on the broker (it shows in each step's event log): NAME@host."""
    name = name or f"nightshift-{os.getpid()}"
    return name if "@" in name else f"{name}@{socket.gethostname()}"


def run_worker(url: str, name: str | None, concurrency: int) -> None:
    """A worker in this process (its pool of ``concurrency`` step processes under it), until it is stopped."""
    app(url).worker_main(["worker", "--hostname", worker_name(name), "--queues", QUEUE, "--concurrency", str(concurrency),
                          "--pool", "prefork", "--loglevel", "INFO", "--without-gossip", "--without-mingle"])
