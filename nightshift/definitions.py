"""The one Definitions object: `dagster dev` loads it from [tool.dagster] in pyproject.toml, for $NIGHTSHIFT_HOME."""

from nightshift.app.code_location import build_definitions
from nightshift.lib.home import Home

defs = build_definitions(Home.from_env())
