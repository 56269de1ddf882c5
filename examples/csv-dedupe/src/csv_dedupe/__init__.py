"""csv-dedupe: a PySetl factory that drops duplicate rows of a CSV file."""

from __future__ import annotations

from typing import Optional

from pysetl.workflow import Factory
from pyspark.sql import DataFrame, SparkSession
from typing_extensions import Self

__all__ = ["CsvDedupe"]


class CsvDedupe(Factory[DataFrame]):
    """Read a CSV with a header and keep one row per distinct key."""

    def __init__(self, path: str = "", subset: Optional[list[str]] = None) -> None:
        super().__init__()  # gives the factory the uuid a pipeline tracks it by
        self.path = path
        self.subset = subset
        self.output: Optional[DataFrame] = None

    def read(self) -> Self:
        spark = SparkSession.builder.getOrCreate()
        self.output = spark.read.option("header", True).csv(self.path)
        return self

    def process(self) -> Self:
        assert self.output is not None
        self.output = self.output.dropDuplicates(self.subset)
        return self

    def write(self) -> Self:
        return self

    def get(self) -> Optional[DataFrame]:
        return self.output
