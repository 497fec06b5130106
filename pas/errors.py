"""The error tree of pas.

Every error the library raises on purpose is a :class:`PasError`. Its message is one line
that says what is wrong and how to fix it; its ``exit_code`` is the process exit code the
command line uses (see the README's table of exit codes).
"""

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REFUSED = 3
EXIT_LOCKED = 4


class PasError(Exception):
    """Root of every deliberate pas error; the message names the fix."""

    exit_code = EXIT_FAILED


class InputError(PasError):
    """Bad input from the user: an argument, a file, a value. Nothing was written."""

    exit_code = EXIT_USAGE


class ConfigError(InputError):
    """A setting (environment variable, .env entry or option) has an invalid value."""


class NotFoundError(InputError):
    """A named thing (portfolio, run, dataset) does not exist."""


class StoreError(PasError):
    """The store cannot be reached or refused an operation."""


class StaleDataError(PasError):
    """The data a command needs is missing or too old; nothing was built from it."""


class RefusedError(PasError):
    """A risk control refused the action (for example the circuit breaker is tripped)."""

    exit_code = EXIT_REFUSED


class LockHeldError(PasError):
    """Another run holds the lock this command needs."""

    exit_code = EXIT_LOCKED


class LockLostError(PasError):
    """A run's lease on its lock expired and another run took the lock over; it stopped."""
