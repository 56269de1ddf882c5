"""pysetl-matrix-probe: the component every build backend of the compatibility matrix builds."""

from __future__ import annotations

__all__ = ["ProbeFactory"]


class ProbeFactory:
    """A PySetl factory (read, process, write, get) with no dependency to import."""

    def __init__(self, rows: int = 1) -> None:
        self.rows = rows
        self.output: list[int] | None = None

    def read(self) -> ProbeFactory:
        self.output = list(range(self.rows))
        return self

    def process(self) -> ProbeFactory:
        assert self.output is not None
        self.output = [row * 2 for row in self.output]
        return self

    def write(self) -> ProbeFactory:
        return self

    def get(self) -> list[int] | None:
        return self.output
