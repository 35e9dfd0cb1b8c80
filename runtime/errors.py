"""What an operator can fix: a wrong flag, a missing setting or binary, a port in use. The `liftbrain` command
prints these as one line and exits 1; any other exception is a bug and keeps its traceback."""

from __future__ import annotations

__all__ = ["OperatorError"]


class OperatorError(RuntimeError):
    """The machine, the configuration or the command line is not as it should be; the message says what to do."""
