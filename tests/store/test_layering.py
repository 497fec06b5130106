"""The store sits below the domain's workflows: it imports none of them."""

from __future__ import annotations

import ast
from pathlib import Path

import pas.store

FORBIDDEN = ("pas.portfolio", "pas.scrapers", "pas.strategies", "pas.commands")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_nothing_in_the_store_imports_from_above_it() -> None:
    root = Path(pas.store.__file__).parent
    offending = {
        f"{path.relative_to(root)}: {name}"
        for path in root.rglob("*.py")
        for name in _imports(path)
        if name.startswith(FORBIDDEN)
    }
    assert not offending, sorted(offending)
