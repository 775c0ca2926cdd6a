"""The app's import direction: ``rooms`` never imports the project package."""

from __future__ import annotations

import ast
from pathlib import Path

ROOMS = Path(__file__).resolve().parents[2] / "rooms"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_no_module_of_the_app_imports_the_project_package() -> None:
    offenders = sorted(
        str(path.relative_to(ROOMS.parent))
        for path in ROOMS.rglob("*.py")
        if any(m.split(".")[0] == "videoroom_project" for m in _imported_modules(path))
    )
    assert offenders == []
