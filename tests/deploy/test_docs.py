"""The operations docs keep up with the code: every variable the server reads is documented in
docs/operations/configure.md (secrets marked, so the reader knows a `*_FILE` form exists), no
variable documented there is one the server ignores, and the README links both pages."""

from __future__ import annotations

import re
from pathlib import Path

from tests.deploy.names import settings_variables

ROOT = Path(__file__).resolve().parents[2]
CONFIGURE = ROOT / "docs" / "operations" / "configure.md"
DEPLOY = ROOT / "docs" / "operations" / "deploy.md"


def rows() -> dict[str, str]:
    """Each table row's variable, and the row."""
    found = {}
    for line in CONFIGURE.read_text().splitlines():
        match = re.match(r"\| `(PYSETL_HUB_[A-Z0-9_]+)`", line)
        if match:
            found[match.group(1)] = line
    return found


def test_every_setting_the_server_reads_is_documented() -> None:
    documented = rows()
    read = settings_variables()
    for name in sorted(read):
        if name.endswith("_FILE"):
            base = name.removesuffix("_FILE")
            assert "(secret)" in documented.get(base, ""), f"mark {base} as (secret) in {CONFIGURE}"
        else:
            assert name in documented, f"{name} is read by the server but not in {CONFIGURE}"


def test_every_documented_setting_is_read() -> None:
    read = settings_variables()
    for path in (CONFIGURE, DEPLOY):
        for name in set(re.findall(r"PYSETL_HUB_[A-Z0-9_]+", path.read_text())):
            if name.startswith("PYSETL_HUB_TEST_"):
                continue  # the test suite's own switches
            assert name in read or name.rstrip("_") + "_FILE" in read, f"{path.name}: {name}"
    secrets = {n.removesuffix("_FILE") for n in read if n.endswith("_FILE")}
    for name, row in rows().items():
        assert ("(secret)" in row) == (name in secrets), name


def test_the_readme_links_the_operations_docs() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "docs/operations/deploy.md" in readme and "docs/operations/configure.md" in readme
