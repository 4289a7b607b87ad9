"""nightshift: nightly, asynchronous LLM work on support tickets, as Dagster assets."""
