"""The import rules and size limits of the README's Architecture section, read from the AST.

Each rule is one test that no module breaks it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "pas"
MAX_MODULE_LINES = 500
STORE_MAY_NOT_IMPORT = ("pas.portfolio", "pas.scrapers", "pas.strategies")


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


def test_commands_never_import_each_other() -> None:
    assert commands_importing_commands() == set()


def test_store_never_imports_portfolio_scrapers_or_strategies() -> None:
    assert store_importing_above() == set()


def test_no_module_is_over_500_lines() -> None:
    assert long_modules() == set()


MAX_FUNCTION_LINES = 60


def body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function's body, its docstring left out (documentation is not length)."""
    body = node.body
    first = body[0]
    value = first.value if isinstance(first, ast.Expr) else None
    if isinstance(value, ast.Constant) and isinstance(value.value, str) and len(body) > 1:
        first = body[1]
    end = node.end_lineno or node.lineno
    return end - first.lineno + 1


def long_functions() -> set[str]:
    found = set()
    for name, path in modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if body_lines(node) > MAX_FUNCTION_LINES:
                found.add(f"{name}.{node.name}")
    return found


def test_body_lines_leave_the_docstring_out() -> None:
    source = 'def f():\n    """Doc.\n\n    More.\n    """\n    a = 1\n    return a\n'
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef)
    assert body_lines(node) == 2


def test_no_function_is_over_60_lines() -> None:
    assert long_functions() == set()
