"""daily-sales-pipeline: a PySetl pipeline that totals sales per day."""

from __future__ import annotations

from typing import Optional

from pysetl.workflow import Factory, Pipeline
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from typing_extensions import Self

__all__ = ["DailyTotals", "build_pipeline"]


class DailyTotals(Factory[DataFrame]):
    """Sum `amount` per `day` over rows of (day, amount)."""

    def __init__(self, rows: Optional[list[tuple[str, float]]] = None) -> None:
        super().__init__()  # gives the factory the uuid a pipeline tracks it by
        self.rows = rows or []
        self.output: Optional[DataFrame] = None

    def read(self) -> Self:
        spark = SparkSession.builder.getOrCreate()
        self.output = spark.createDataFrame(self.rows, "day string, amount double")
        return self

    def process(self) -> Self:
        assert self.output is not None
        self.output = self.output.groupBy("day").agg(F.sum("amount").alias("total"))
        return self

    def write(self) -> Self:
        return self

    def get(self) -> Optional[DataFrame]:
        return self.output


def build_pipeline(rows: Optional[list[tuple[str, float]]] = None) -> Pipeline:
    """A pipeline with one DailyTotals stage."""
    return Pipeline().add_stage_from_factory(DailyTotals(rows))
