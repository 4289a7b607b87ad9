"""Where a job's steps run: in the orchestrating process tree, or on Celery workers once the broker is set.

With the broker, the process that runs a job (the CLI, or Dagster's run worker) only orchestrates: it sends each
step to the broker, and whichever worker is free executes it, on this machine or another, recording its events in
the shared Dagster instance.
"""

from __future__ import annotations

import dagster as dg
from celery import Celery
from dagster_celery import celery_executor
from dagster_celery.config import DEFAULT_CONFIG, dict_wrapper
from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_task

from nightshift.deployment.broker import backend, broker, settings, worker_argv

CELERY = "celery"  # the executor's name: a job with it runs its steps on workers


def jobs_executor() -> dg.ExecutorDefinition | None:
    """dagster-celery's executor for the configured broker; None (Dagster's default) without one."""
    url = broker()
    if not url:
        return None
    return celery_executor.configured({"broker": url, "backend": backend(url), "config_source": settings()}, name=CELERY)


def worker_app(url: str) -> Celery:
    """The workers' Celery app: the one task that executes a step, with the settings the executor sends under."""
    app = make_app({"broker": url, "backend": backend(url), "include": [], "config_source": dict_wrapper({**DEFAULT_CONFIG, **settings()})})
    create_task(app)
    return app


def run_worker(url: str, name: str | None, concurrency: int) -> None:
    """A worker in this process, its pool of step processes under it, until it is stopped."""
    worker_app(url).worker_main(worker_argv(name, concurrency))
