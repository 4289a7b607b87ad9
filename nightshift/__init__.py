"""nightshift: nightly, asynchronous LLM work on support tickets, as Dagster assets."""

import os

# LanceDB's Rust logger warns on the first write of every table ("No existing dataset ... it will be created"), which
# is how each table is made; errors still show, and a LANCEDB_LOG the user set wins. Set before lancedb loads.
os.environ.setdefault("LANCEDB_LOG", "error")
