"""The app shell: the `nightshift` command, its runner and tables, the home, the Dagster instance, settings, the cost bench."""
