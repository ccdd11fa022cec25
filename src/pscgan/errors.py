"""The project's own error types.

Every problem with a user's input or output location is raised as a :class:`PscganError` subclass
whose message names the file and the problem, so that the command-line interface can print it
without a traceback. Anything else that escapes is a bug.

Example:
    >>> from pathlib import Path
    >>> err = InputError(Path("subj01/cine.nii.gz"), "expected 4 dimensions (x, y, slice, time), got 3")
    >>> str(err)
    'subj01/cine.nii.gz: expected 4 dimensions (x, y, slice, time), got 3'
"""

from __future__ import annotations

from pathlib import Path


class PscganError(Exception):
    """Base class of every error the project raises on purpose."""

    def __init__(self, path: str | Path | None, problem: str) -> None:
        self.path = Path(path) if path is not None else None
        self.problem = problem
        super().__init__(f"{self.path}: {problem}" if self.path is not None else problem)


class InputError(PscganError):
    """An input file or folder is missing, unreadable, or holds data of the wrong kind."""


class OutputError(PscganError):
    """An output location cannot be used: below a file, a symbolic-link loop, not writable, or an input."""


class OutputExistsError(OutputError):
    """The output location already holds data and ``overwrite`` was not requested."""


class ConfigError(PscganError):
    """A configuration, preset or command-line option is invalid."""
