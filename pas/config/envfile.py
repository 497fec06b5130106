"""The settings file: python-dotenv syntax, read strictly.

python-dotenv skips a line it cannot parse with a logged warning and goes on, so a
mistyped risk limit (``BREAKER_MAX_DRAWDOWN='0.1`` without its closing quote) would fall
back to its default without a word. pas refuses the whole file instead, naming the file
and the line; the line's value is never shown, since it may be a secret.
"""

from __future__ import annotations

import io
from pathlib import Path

from pas.errors import ConfigError


def read_env_file(path: Path) -> dict[str, str]:
    """The key/value pairs of a settings file; a file that does not exist is empty.

    Raises:
        ConfigError: the path is a directory or unreadable, or a line cannot be parsed.
    """
    from dotenv import dotenv_values
    from dotenv.parser import parse_stream

    if not path.exists():
        return {}
    if path.is_dir():
        raise ConfigError(
            f"settings file {path} is a directory; name the file itself (such as {path / '.env'})"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read the settings file {path} ({exc}); fix its permissions or encoding"
        ) from None
    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            name = binding.original.string.split("=", 1)[0].strip() or "?"
            raise ConfigError(
                f"{path} line {binding.original.line} ({name}=…) cannot be parsed; fix it "
                "(python-dotenv syntax: NAME=value, NAME='value' or NAME=\"value\", quotes closed)"
            )
    return {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}
