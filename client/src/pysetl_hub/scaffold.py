"""`pysetl-hub new factory|pipeline NAME`: a component project ready to build, test and publish."""

from __future__ import annotations

import re
from pathlib import Path

from packaging.utils import canonicalize_name

from pysetl_hub.errors import HubError
from pysetl_hub.i18n import _
from pysetl_hub_schemas import FACTORIES, KINDS, PIPELINES

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9._-]*[A-Za-z0-9]$")

PYPROJECT = """\
[project]
name = "{dist}"
version = "0.1.0"
description = "{summary}"
readme = "README.md"
requires-python = ">=3.9"
license = "Apache-2.0"
keywords = ["pysetl", "{kind}"]
dependencies = ["pysetl>=1.2,<2", "pyspark>=3.4,<4"]

[project.optional-dependencies]
test = ["pytest>=8"]

[project.entry-points."{group}"]
{entry} = "{package}:{entry}"

[build-system]
requires = ["hatchling>=1.25"]
build-backend = "hatchling.build"

[tool.hatch.build.targets.wheel]
packages = ["src/{package}"]
"""

FACTORY = '''\
"""{dist}: a PySetl factory."""

from __future__ import annotations

from typing import Optional

from pysetl.workflow import Factory
from pyspark.sql import DataFrame, SparkSession
from typing_extensions import Self

__all__ = ["{cls}"]


class {cls}(Factory[DataFrame]):
    """Read rows, keep the distinct ones. Replace the body of each step with your logic."""

    def __init__(self, rows: Optional[list[tuple[str, int]]] = None) -> None:
        super().__init__()  # gives the factory the uuid a pipeline tracks it by
        self.rows = rows if rows is not None else [("a", 1), ("a", 1), ("b", 2)]
        self.output: Optional[DataFrame] = None

    def read(self) -> Self:
        spark = SparkSession.builder.getOrCreate()
        self.output = spark.createDataFrame(self.rows, "key string, value int")
        return self

    def process(self) -> Self:
        assert self.output is not None
        self.output = self.output.distinct()
        return self

    def write(self) -> Self:
        return self

    def get(self) -> Optional[DataFrame]:
        return self.output
'''

PIPELINE = '''\
"""{dist}: a PySetl pipeline."""

from __future__ import annotations

from typing import Optional

from pysetl.workflow import Factory, Pipeline
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from typing_extensions import Self

__all__ = ["{cls}", "{cls}Stage"]


class {cls}Stage(Factory[DataFrame]):
    """The pipeline's one stage: totals per key. Add stages for your own steps."""

    def __init__(self, rows: Optional[list[tuple[str, int]]] = None) -> None:
        super().__init__()  # gives the factory the uuid a pipeline tracks it by
        self.rows = rows if rows is not None else [("a", 1), ("a", 2), ("b", 5)]
        self.output: Optional[DataFrame] = None

    def read(self) -> Self:
        spark = SparkSession.builder.getOrCreate()
        self.output = spark.createDataFrame(self.rows, "key string, value int")
        return self

    def process(self) -> Self:
        assert self.output is not None
        self.output = self.output.groupBy("key").agg(F.sum("value").alias("total"))
        return self

    def write(self) -> Self:
        return self

    def get(self) -> Optional[DataFrame]:
        return self.output


class {cls}(Pipeline):
    """A ready-to-run pipeline: `{cls}().run().get_last_output()`."""

    def __init__(self, rows: Optional[list[tuple[str, int]]] = None) -> None:
        super().__init__()
        self.add_stage_from_factory({cls}Stage(rows))
'''

TEST_FACTORY = """\
from pysetl.workflow import Pipeline

from {package} import {cls}


def test_runs_in_a_pipeline() -> None:
    out = Pipeline().add_stage_from_factory({cls}()).run().get_last_output()
    assert sorted(tuple(r) for r in out.collect()) == [("a", 1), ("b", 2)]
"""

TEST_PIPELINE = """\
from {package} import {cls}


def test_pipeline_totals() -> None:
    out = {cls}().run().get_last_output()
    assert sorted(tuple(r) for r in out.collect()) == [("a", 3), ("b", 5)]
"""

README = """\
# {dist}

A PySetl {kind}. Entry point `{entry}` in the `{group}` group.

## Use it

    pysetl-hub install {dist}

```python
from pysetl_hub.plugins import load_{kind}

{entry} = load_{kind}("{dist}:{entry}")
```

## Sample data

The {kind} reads its rows from the constructor (`key string, value int`). To try it on a file,
keep the file locale-neutral: ISO 8601 dates and times (UTC, with the offset written out), a
dot as the decimal separator, no thousands separators and no currency symbols (the currency
goes in the column's name):

```csv
key,value,amount_eur,day,updated_at
a,1,1234.50,2024-03-01,2024-03-01T09:30:00Z
a,1,1234.50,2024-03-01,2024-03-01T09:30:00Z
b,2,0.75,2024-03-02,2024-03-02T17:05:00Z
```

Read it with a schema and explicit formats, so the result is the same on every machine:

```python
spark.conf.set("spark.sql.session.timeZone", "UTC")
df = (
    spark.read.option("header", True)
    .option("dateFormat", "yyyy-MM-dd")
    .option("timestampFormat", "yyyy-MM-dd'T'HH:mm:ssXXX")
    .schema("key string, value int, amount_eur decimal(12,2), day date, updated_at timestamp")
    .csv("sample.csv")
)
```

For readers in other locales: data written the local way (`1.234,50`, `01/03/2024`) does not
parse with the options above. Convert it to the form above once, where it enters, or tell the
reader what it holds: `dateFormat` and `timestampFormat` take the files' pattern (for example
`dd/MM/yyyy`), and the CSV reader's `locale` option (a BCP 47 tag such as `de-DE` or `es-ES`)
sets how decimal numbers (the decimal separator) and month names are parsed. Never rely on
the machine's default locale or time zone.

## Develop

    python -m pip install -e '.[test]' 'pysetl[pyspark]'
    python -m pytest

## Publish

    python -m build
    pysetl-hub publish dist/*

The CI workflow in `.github/workflows/publish.yml` builds, tests, signs (PEP 740 attestations
with Sigstore, from the workflow's OIDC identity) and publishes each tagged release. Register
it once as the component's trusted publisher: the hub then lets that workflow upload with a
15-minute token minted from its OIDC identity (no secret stored in CI), and installers can
check who built each file:

    pysetl-hub publishers add {dist} github:OWNER/REPO/publish.yml
"""

WORKFLOW = """\
name: publish
on:
  push:
    tags: ["v*"]
jobs:
  build:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write   # the OIDC identity: mints the upload token, and Sigstore signs with it
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - uses: actions/setup-java@v4
        with:
          distribution: temurin
          java-version: "17"
      - run: python -m pip install build '.[test]' 'pysetl[pyspark]' pysetl-hub
      - run: python -m pytest
      - run: python -m build
      # Trusted publishing: no token, no secret. With none configured, publish exchanges this
      # workflow's OIDC identity for a 15-minute upload token (the hub checks it is the
      # publisher registered with `pysetl-hub publishers add`); --attest signs each file
      # (PEP 740, Sigstore) with the same identity.
      - run: pysetl-hub publish --attest dist/*.whl dist/*.tar.gz
        env:
          PYSETL_HUB_URL: ${{{{ vars.PYSETL_HUB_URL }}}}
"""


def _class_name(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[-_.]+", name) if part)


def scaffold(kind: str, name: str, parent: Path) -> Path:
    """Write a new project for a factory or pipeline named `name` under `parent`; return its dir."""
    if kind not in KINDS:
        raise HubError(_("unknown kind {kind}: use factory or pipeline").format(kind=repr(kind)))
    if not _NAME.match(name):
        raise HubError(
            _(
                "{name} is not a valid distribution name: use letters, digits, '-', '_' or '.', "
                "starting with a letter"
            ).format(name=repr(name))
        )
    dist = canonicalize_name(name)
    package = dist.replace("-", "_")
    cls = _class_name(dist)
    root = parent / dist
    if root.exists():
        raise HubError(
            _("{path} already exists: choose another name or remove it").format(path=root)
        )
    fields = {
        "dist": dist,
        "package": package,
        "cls": cls,
        "entry": cls,
        "kind": kind,
        "group": FACTORIES if kind == "factory" else PIPELINES,
        "summary": f"A PySetl {kind}.",
    }
    files = {
        "pyproject.toml": PYPROJECT,
        f"src/{package}/__init__.py": FACTORY if kind == "factory" else PIPELINE,
        f"src/{package}/py.typed": "",
        f"tests/test_{package}.py": TEST_FACTORY if kind == "factory" else TEST_PIPELINE,
        "README.md": README,
        ".github/workflows/publish.yml": WORKFLOW,
        ".gitignore": "dist/\n__pycache__/\n*.egg-info/\n.venv/\nspark-warehouse/\n",
    }
    for rel, template in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(**fields))
    return root
