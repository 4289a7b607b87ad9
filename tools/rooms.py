"""Rooms of the package and the import arrows between them: `python tools/rooms.py [PACKAGE_DIR]`.

A room is a first-level folder of the package ("." for modules at its top). Prints modules and lines per room, then
every arrow A -> B with the number of imports of B's modules made in A's modules, and which rooms import dagster.
Reads the source with ast; imports nothing from the package.
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path


def room_of(module: str, package: str) -> str | None:
    parts = module.split(".")
    if parts[0] != package:
        return None
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in ROOMS) else "."


ROOMS: set[str] = set()


def main(root: Path) -> None:
    package = root.name
    ROOMS.update(p.name for p in root.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    modules, lines, arrows, dagster = Counter(), Counter(), Counter(), Counter()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        room = rel.parts[0] if len(rel.parts) > 1 else "."
        if path.name != "__init__.py" or path.stat().st_size > 200:
            modules[room] += 1
        lines[room] += len(path.read_text().splitlines())
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{a.name}" if node.module == package else node.module for a in node.names]
            for name in names:
                if name.split(".")[0] == "dagster":
                    dagster[room] += 1
                target = room_of(name, package)
                if target and target != room:
                    arrows[(room, target)] += 1
    total = sum(lines.values())
    print(f"{'room':14} {'modules':>7} {'lines':>6} {'share':>6}  imports dagster")
    for room in sorted(modules):
        print(f"{room:14} {modules[room]:7} {lines[room]:6} {lines[room] / total:6.0%}  {'yes' if dagster[room] else 'no'}")
    print(f"\n{len(arrows)} arrows between rooms ({sum(arrows.values())} imports):")
    for (a, b), n in sorted(arrows.items()):
        back = " (cycle)" if (b, a) in arrows else ""
        print(f"  {a:14} -> {b:14} {n:3}{back}")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "nightshift").resolve())
