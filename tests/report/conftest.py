"""The CLI fixtures of tests/commands, for the `pas report` tests."""

from tests.commands.conftest import home, pas

__all__ = ["home", "pas"]
