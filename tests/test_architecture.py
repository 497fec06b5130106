"""The import rules and size limits of the README's Architecture section, read from the AST.

Each rule has two tests: one that no *new* module breaks it (the modules that break it
today are being reworked on other branches, and are listed), and one, marked
``xfail(strict=True)`` while that list is not empty, that nothing breaks it at all. When
the reworks land the strict test starts passing, fails as XPASS, and its mark and list go.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pas"
MAX_MODULE_LINES = 500
STORE_MAY_NOT_IMPORT = ("pas.portfolio", "pas.scrapers", "pas.strategies")

# Today's breaches, each fixed on another branch of issue 11 (see the reasons below).
COMMANDS_IMPORTING_COMMANDS = {
    "pas.commands.build",
    "pas.commands.demo",
    "pas.commands.risk",
}
STORE_IMPORTING_ABOVE = {"pas.store.base", "pas.store.mongo", "pas.store.sqlite"}
LONG_MODULES = {"pas.store.mongo", "pas.store.sqlite", "pas.portfolio.trading"}


def module_name(path: Path) -> str:
    """``pas/store/base.py`` -> ``pas.store.base``; a package's ``__init__`` is the package."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported(name: str, path: Path) -> Iterator[str]:
    """Every module ``name`` imports, at the top or inside a function, relative ones resolved.

    ``from a import b`` yields ``a`` and ``a.b`` (``b`` may be a module).
    """
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def within(target: str, prefix: str) -> bool:
    return target == prefix or target.startswith(prefix + ".")


def is_command(name: str) -> bool:
    return within(name, "pas.commands") or name == "pas.cli"


def command_group(name: str) -> str | None:
    """The command module ``name`` is or lies in (``pas.commands.build.trade`` -> ``build``);
    None outside the command modules (the package itself, shared ``_underscore`` modules)."""
    parts = name.split(".")
    if parts[:2] != ["pas", "commands"] or len(parts) < 3 or parts[2].startswith("_"):
        return None
    return parts[2]


def library_importing_commands() -> set[str]:
    return {
        name
        for name, path in modules().items()
        if not is_command(name) and any(is_command(t) for t in imported(name, path))
    }


def commands_importing_commands() -> set[str]:
    found = set()
    for name, path in modules().items():
        group = command_group(name)
        others = {command_group(t) for t in imported(name, path)} - {None, group}
        if group is not None and others:
            found.add(name)
    return found


def store_importing_above() -> set[str]:
    return {
        name
        for name, path in modules().items()
        if within(name, "pas.store")
        and any(within(t, above) for t in imported(name, path) for above in STORE_MAY_NOT_IMPORT)
    }


def long_modules() -> set[str]:
    return {
        name
        for name, path in modules().items()
        if len(path.read_text(encoding="utf-8").splitlines()) > MAX_MODULE_LINES
    }


def test_the_rules_see_imports_inside_functions_and_relative_ones(tmp_path: Path) -> None:
    # The rules are only as good as the import reader: a lazy import inside a function
    # and a relative import must count like a top-level absolute one.
    path = tmp_path / "pas" / "commands" / "build.py"
    path.parent.mkdir(parents=True)
    path.write_text("def f():\n    from .trading import trade\n    import pas.store.base\n")
    found = set(imported("pas.commands.build", path))
    assert {"pas.commands.trading", "pas.commands.trading.trade", "pas.store.base"} <= found


def test_library_never_imports_the_commands() -> None:
    assert library_importing_commands() == set()


def test_no_new_command_imports_another_command() -> None:
    assert commands_importing_commands() <= COMMANDS_IMPORTING_COMMANDS


@pytest.mark.xfail(strict=True, reason="issue 11 part 3 (workflows out of the commands) is in flight")
def test_commands_never_import_each_other() -> None:
    assert commands_importing_commands() == set()


def test_no_new_store_module_imports_from_above_it() -> None:
    assert store_importing_above() <= STORE_IMPORTING_ABOVE


@pytest.mark.xfail(strict=True, reason="issue 11 part 2 (value objects to pas/models.py) is in flight")
def test_store_never_imports_portfolio_scrapers_or_strategies() -> None:
    assert store_importing_above() == set()


def test_no_new_module_is_over_500_lines() -> None:
    assert long_modules() <= LONG_MODULES


@pytest.mark.xfail(strict=True, reason="issue 11 parts 2 and 5 (store and trading splits) are in flight")
def test_no_module_is_over_500_lines() -> None:
    assert long_modules() == set()
