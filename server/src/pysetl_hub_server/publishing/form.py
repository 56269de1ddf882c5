"""The parsed upload form, kept apart from the parser so validation needs no parser import."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

FILE_FIELD = "content"  # the part twine puts the distribution file in


@dataclass(slots=True)
class UploadedFile:
    """The `content` part, spooled to disk with its digests."""

    filename: str
    path: Path
    size: int
    sha256: str
    blake2b_256: str
    md5: str
    # The spool file, kept open: its lock tells a start-up sweep that a live upload owns it.
    handle: IO[bytes] | None = None

    def discard(self) -> None:
        """Delete the spool file, then let go of it."""
        self.path.unlink(missing_ok=True)
        if self.handle is not None:
            with contextlib.suppress(OSError):
                self.handle.close()


@dataclass(slots=True)
class UploadForm:
    """Every text field (a name may repeat, as twine's classifiers do) and the file."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    file: UploadedFile | None = None

    def get(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None

    def getlist(self, name: str) -> list[str]:
        return self.fields.get(name, [])
