"""Asset checks: structural ones sit on their assets as check_specs; semantic ones live here."""
