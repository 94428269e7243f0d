"""Errors the command line turns into one clear paragraph (no traceback)."""
from __future__ import annotations

__all__ = ["UserError", "DataError", "BuildError", "ParameterError"]


class UserError(Exception):
    """An error caused by input the user can fix; the CLI prints ``str(err)`` and exits 2."""

    exit_code = 2


class DataError(UserError):
    """The data folder breaks the contract. ``problems`` lists every problem found."""

    def __init__(self, message: str, problems: list | None = None):
        super().__init__(message)
        self.problems = list(problems or [])


class ParameterError(UserError):
    """An unknown parameter, or a value of the wrong type."""


class BuildError(UserError):
    """A chapter or the book build failed; the previous site was left in place."""

    exit_code = 1
