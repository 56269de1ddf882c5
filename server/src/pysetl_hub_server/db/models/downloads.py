"""Downloads per file and UTC day: what the per-version statistics are summed from.

Keyed by filename, not by file row: a filename is never reused (the filename registry burns
it), so the counts of a deleted file stay in the component's history as they do in
`download_counts`, and the version is kept beside it so no join to a deleted release is needed.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from pysetl_hub_server.db.models.base import Base, Id


class FileDownloadCount(Base):
    __tablename__ = "file_download_counts"

    component_id: Mapped[int] = mapped_column(
        Id, ForeignKey("components.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    filename: Mapped[str] = mapped_column(String(255), primary_key=True)
    version: Mapped[str] = mapped_column(String(128))
    count: Mapped[int] = mapped_column(BigInteger, default=0)
