"""The rooms keep their shape: domain rooms are plain Python, and no two rooms import each other."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "nightshift"
DAGSTER_LAYER = {"assets", "checks", "resources", "orchestration", "app"}


def imports_by_room() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE)
        room = rel.parts[0] if len(rel.parts) > 1 else "."
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.setdefault(room, set()).update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.setdefault(room, set()).add(node.module)
    return found


def test_domain_rooms_never_import_dagster_or_its_layer():
    for room, modules in imports_by_room().items():
        if room in DAGSTER_LAYER or room == ".":
            continue
        assert not {m for m in modules if m.split(".")[0] == "dagster"}, f"{room}/ imports dagster"
        layer = {m for m in modules if m.startswith("nightshift.") and m.split(".")[1] in DAGSTER_LAYER}
        assert not layer, f"{room}/ imports the Dagster layer: {sorted(layer)}"


def test_no_two_rooms_import_each_other():
    arrows = {(room, m.split(".")[1]) for room, modules in imports_by_room().items()
              for m in modules if m.startswith("nightshift.") and m.split(".")[1] != room}
    assert not {(a, b) for a, b in arrows if (b, a) in arrows}
