"""The app's layering: ``rooms`` never imports the project package, and only
``rooms.sfu.aiortc_hooks`` reaches into other objects' private attributes (aiortc's)."""

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


# --- private attributes -------------------------------------------------------------

HOOKS = ROOMS / "sfu" / "aiortc_hooks"
_ATTRIBUTE_FUNCTIONS = {"getattr", "setattr", "hasattr", "delattr"}

# (path, expression) -> why it is not a hook.
ALLOWED_PRIVATE_ACCESS = {
    # Not aiortc: Twisted's write buffer, the one place the unsent bytes are kept
    # (rooms/web/serve.py); tests/unit/test_serve.py guards it. Permanent.
    ("rooms/web/serve.py", "transport._tempDataLen"): "none: Twisted, not aiortc",
    # Not aiortc: channels-redis's unawaited cleanup task after each receive, wrapped so a
    # Redis outage does not end it in an unretrieved exception (rooms/layers.py). Permanent.
    ("rooms/layers.py", "super()._clean_receive_backup"): "none: channels-redis, not aiortc",
}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _private_accesses(path: Path) -> list[tuple[int, str]]:
    """(line, expression) of each private attribute ``path`` reads or writes on another
    object than ``self``/``cls``, by attribute syntax or by name in getattr and its kin."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            if not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
                found.append((node.lineno, ast.unparse(node)))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _ATTRIBUTE_FUNCTIONS
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
            and _is_private(node.args[1].value)
        ):
            found.append((node.lineno, ast.unparse(node)))
    return sorted(found)


def _accesses_outside_the_hooks() -> list[tuple[str, int, str]]:
    return sorted(
        (str(path.relative_to(ROOMS.parent)), line, expression)
        for path in ROOMS.rglob("*.py")
        if not path.is_relative_to(HOOKS)
        for line, expression in _private_accesses(path)
    )


def test_only_the_aiortc_hooks_touch_private_attributes_of_other_objects() -> None:
    offenders = [
        f"{path}:{line}: {expression}"
        for path, line, expression in _accesses_outside_the_hooks()
        if (path, expression) not in ALLOWED_PRIVATE_ACCESS
    ]
    assert offenders == [], "use (or add) a function of rooms.sfu.aiortc_hooks"


def test_every_allowed_private_access_is_still_there() -> None:
    found = {(path, expression) for path, _, expression in _accesses_outside_the_hooks()}
    assert set(ALLOWED_PRIVATE_ACCESS) - found == set(), "switched: drop it from the allow-list"


def test_the_private_access_scan_sees_attributes_and_getattr_but_not_self_or_dunders(
    tmp_path: Path,
) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "self._a = other._b\n"
        "cls._c = type(x).__name__\n"
        "getattr(sender, '_ssrc')\n"
        "setattr(sender, 'track', None)\n"
        "self.peer._state\n"
    )
    assert _private_accesses(sample) == [
        (1, "other._b"),
        (3, "getattr(sender, '_ssrc')"),
        (5, "self.peer._state"),
    ]


# --- bounds ---------------------------------------------------------------------------


def test_every_bound_is_documented_with_its_variable() -> None:
    import dataclasses

    from rooms.limits import Limits

    protocol = (ROOMS.parent / "docs" / "protocol.md").read_text()
    missing = [
        spec.name
        for spec in dataclasses.fields(Limits)
        if f"VIDEOROOM_LIMIT_{spec.name.upper()}" not in protocol
    ]
    assert missing == [], "list each Limits field in docs/protocol.md with its env var"


def test_the_generic_phoenix_package_imports_nothing_of_the_application() -> None:
    """rooms/phoenix is a Phoenix server that knows no rooms, metrics or workers."""
    allowed = {"rooms.phoenix", "rooms.logtext", "rooms.strictjson"}
    offenders = sorted(
        f"{path.name}: {module}"
        for path in (ROOMS / "phoenix").glob("*.py")
        for module in _imported_modules(path)
        if module.startswith("rooms.")
        and not any(module == a or module.startswith(a + ".") for a in allowed)
    )
    assert offenders == []
