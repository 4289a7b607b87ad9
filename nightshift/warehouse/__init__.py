"""The DuckDB warehouse: every table described once, its migrations, and one gateway (…SQL class) per table family."""
