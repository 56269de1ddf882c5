"""The environment a component is resolved for: Python, PySetl and Spark versions, wheel tags.

Read from a target interpreter (as uv does with `--python`), or given explicitly so a plan can
be made for a cluster image this machine is not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import packaging
from packaging import tags as ptags
from packaging.version import InvalidVersion, Version

from pysetl_hub.errors import HubError
from pysetl_hub.i18n import N_, _
from pysetl_hub_schemas import PYSETL_DIST, SPARK_DIST

# Runs inside the target interpreter. `packaging` is appended to its path (after its own
# packages), because the target may not have it installed.
_PROBE = r"""
import json, sys
sys.path.append(sys.argv[1])
from importlib import metadata
from packaging import markers, tags
def version(name):
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None
print(json.dumps({
    "python": sys.executable,
    "python_version": ".".join(map(str, sys.version_info[:3])),
    "pysetl": version(sys.argv[2]),
    "pyspark": version(sys.argv[3]),
    "markers": markers.default_environment(),
    "tags": [str(t) for t in tags.sys_tags()],
}))
"""


class TargetError(HubError):
    hint = N_("pass --python PATH to a working interpreter, or give the versions explicitly")


@dataclass(frozen=True)
class Environment:
    python_version: str
    pysetl: str | None = None
    pyspark: str | None = None
    tags: tuple[str, ...] = ()
    markers: dict[str, str] = field(default_factory=dict)
    python: str | None = None

    @classmethod
    def probe(cls, python: str | Path | None = None) -> Environment:
        exe = str(python or sys.executable)
        lib = str(Path(packaging.__file__).resolve().parents[1])
        try:
            out = subprocess.run(
                [exe, "-I", "-c", _PROBE, lib, PYSETL_DIST, SPARK_DIST],
                capture_output=True,
                text=True,
                check=True,
                timeout=60,
            ).stdout
        except (OSError, subprocess.SubprocessError) as exc:
            raise TargetError(
                _("cannot inspect the interpreter {python}: {error}").format(python=exe, error=exc)
            ) from exc
        data = json.loads(out)
        return cls(
            python_version=data["python_version"],
            pysetl=data["pysetl"],
            pyspark=data["pyspark"],
            tags=tuple(data["tags"]),
            markers=data["markers"],
            python=data["python"],
        )

    def override(
        self,
        *,
        python_version: str | None = None,
        pysetl: str | None = None,
        pyspark: str | None = None,
    ) -> Environment:
        """The same environment with explicit versions; a new Python version gets its tags."""
        env = self
        for label, value in (("Python", python_version), ("PySetl", pysetl), ("Spark", pyspark)):
            if value is not None:
                try:
                    Version(value)
                except InvalidVersion as exc:
                    raise TargetError(
                        _("{platform} version {value} is not a version").format(
                            platform=label, value=repr(value)
                        )
                    ) from exc
        if pysetl is not None:
            env = replace(env, pysetl=pysetl)
        if pyspark is not None:
            env = replace(env, pyspark=pyspark)
        if python_version is not None:
            parts = python_version.split(".")
            markers = {
                **self.markers,
                "python_version": ".".join(parts[:2]),
                "python_full_version": python_version if len(parts) > 2 else python_version + ".0",
            }
            env = replace(
                env,
                python_version=python_version,
                tags=tags_for(python_version, self.tags),
                markers=markers,
            )
        return env

    def describe(self) -> str:
        missing = "(not installed)"
        return (
            f"Python {self.python_version}, pysetl {self.pysetl or missing}, "
            f"pyspark {self.pyspark or missing}"
        )


def tags_for(python_version: str, current: tuple[str, ...]) -> tuple[str, ...]:
    """Wheel tags of CPython `python_version` on this machine's platforms."""
    major, minor = (int(p) for p in python_version.split(".")[:2])
    platforms = list(
        dict.fromkeys(str(t).rsplit("-", 1)[1] for t in current if not str(t).endswith("-any"))
    )
    found = [
        *ptags.cpython_tags((major, minor), platforms=platforms or None),
        *ptags.compatible_tags((major, minor), platforms=platforms or None),
    ]
    return tuple(str(t) for t in found)
