"""The Celery broker the jobs send their steps to, and what the orchestrator and every worker agree on."""

from __future__ import annotations

import os
import socket

BROKER = "NIGHTSHIFT_CELERY_BROKER"
QUEUE = "dagster"  # the queue dagster-celery routes steps to


def broker() -> str | None:
    """The broker's URL (redis://host:6379/0), or None: steps run in the orchestrating process tree."""
    return os.environ.get(BROKER) or None


def backend(url: str) -> str:
    """Where workers leave each step's events for the orchestrator: the broker's Redis, or NIGHTSHIFT_CELERY_BACKEND."""
    return os.environ.get("NIGHTSHIFT_CELERY_BACKEND") or url


# How long a taken step may go unacknowledged before Redis hands it to another worker: the one that took it is taken
# to be lost with its machine. It must outlast the longest step, or a slow step runs twice at once; the longest measured
# (ticket_embeddings of a 100,000-ticket day, on 2 cores) takes about 170 s, so half an hour leaves ten times that, and a
# lost worker's step comes back within half an hour instead of Celery's default hour.
VISIBILITY_TIMEOUT = "NIGHTSHIFT_CELERY_VISIBILITY_TIMEOUT"
VISIBILITY_TIMEOUT_S = 1800


def visibility_timeout() -> int:
    return int(os.environ.get(VISIBILITY_TIMEOUT) or VISIBILITY_TIMEOUT_S)


# Celery's own setting names, on top of dagster-celery's defaults.
SETTINGS = {
    # A worker takes one step at a time and holds no queue of its own, so a free worker gets the next step.
    "worker_prefetch_multiplier": 1,
    # A step's message is acknowledged when the step is over, not when it starts; if the process running it dies
    # (SIGKILL, the OOM killer), the message goes back on the queue and a live worker runs the step again. Every write
    # of a step replaces its day or updates rows by id, so the second run stores what the first would have.
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
}


def settings() -> dict:
    """SETTINGS with the visibility timeout of this environment (the orchestrator's and every worker's must agree).

    Workers look for messages past the timeout every tenth of it (at most every 10 s, Redis's transport default), on
    every look rather than every tenth look as by default: a lost step comes back within about 1.1 timeouts."""
    timeout = visibility_timeout()
    return {**SETTINGS, "broker_transport_options": {
        "visibility_timeout": timeout, "unacked_restore_interval": max(1, min(10, timeout // 10)), "unacked_restore_throttle": 1}}


def worker_name(name: str | None) -> str:
    """A name unique on the broker, shown in each step's event log: NAME@host."""
    name = name or f"nightshift-{os.getpid()}"
    return name if "@" in name else f"{name}@{socket.gethostname()}"


def worker_argv(name: str | None, concurrency: int) -> list[str]:
    """Celery's worker command line: the steps' queue, a pool of ``concurrency`` step processes."""
    return ["worker", "--hostname", worker_name(name), "--queues", QUEUE, "--concurrency", str(concurrency),
            "--pool", "prefork", "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
