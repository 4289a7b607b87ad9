"""Small helpers every room may use; nothing here knows about tickets or Dagster."""
