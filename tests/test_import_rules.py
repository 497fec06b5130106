"""The import rules of the README's Architecture section, checked over the source (AST)."""

from __future__ import annotations

import ast
from pathlib import Path

PAS = Path(__file__).parents[1] / "pas"


def _module(path: Path) -> str:
    parts = path.relative_to(PAS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function (``from a import b``
    counts as ``a.b`` too, since ``b`` may be a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _is_command(module: str) -> bool:
    """A command module (shared ``_plumbing`` modules of pas.commands are not commands)."""
    parts = module.split(".")
    return len(parts) == 3 and parts[:2] == ["pas", "commands"] and not parts[2].startswith("_")


SOURCES = {_module(p): _imports(p) for p in sorted(PAS.rglob("*.py"))}


def test_the_rules_see_lazy_imports() -> None:
    # build imports trade_and_show inside its function; the check must see it.
    assert "pas.commands._trading" in SOURCES["pas.commands.build"]


def test_library_modules_never_import_the_commands() -> None:
    library = {m: i for m, i in SOURCES.items() if not m.startswith("pas.commands") and m != "pas.cli"}
    offenders = {
        m: sorted(i for i in imports if i.startswith("pas.commands")) for m, imports in library.items()
    }
    assert {m: i for m, i in offenders.items() if i} == {}


def test_commands_never_import_other_commands() -> None:
    offenders = {
        m: sorted(i for i in imports if _is_command(i) and i != m)
        for m, imports in SOURCES.items()
        if m.startswith("pas.commands")
    }
    assert {m: i for m, i in offenders.items() if i} == {}
