"""The error a script that is not a valid call script raises, naming its file and line."""

from __future__ import annotations


class ScriptError(ValueError):
    """The script file is not a valid call script; the message names the file and line."""

    def __init__(self, problem: str, source: str = "", line: int | None = None) -> None:
        where = f"{source}:{line}: " if source and line else (f"{source}: " if source else "")
        super().__init__(where + problem)
        self.problem = problem
        self.source = source
        self.line = line
