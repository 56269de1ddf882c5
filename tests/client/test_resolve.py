"""The resolver's rules, one by one, and hypothesis properties over random catalogs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from pysetl_hub.environment import Environment, tags_for
from pysetl_hub.errors import BadRequirement, NotOnHub, ResolutionError
from pysetl_hub.resolve import choose, exact_pin, resolve
from pysetl_hub_schemas import Compatibility, Component, FileInfo, Release

NOW = datetime(2026, 1, 1, tzinfo=UTC)
ENV = Environment(
    python_version="3.11.7",
    pysetl="1.2.1",
    pyspark="3.5.1",
    tags=tags_for("3.11", ("cp311-cp311-manylinux_2_17_x86_64",)),
    markers={"python_version": "3.11", "sys_platform": "linux"},
)


def wheel(name: str, version: str, tag: str = "py3-none-any") -> FileInfo:
    fn = f"{name.replace('-', '_')}-{version}-{tag}.whl"
    return FileInfo(
        filename=fn,
        url=f"/files/{'0' * 64}/{fn}",
        packagetype="bdist_wheel",
        size=1,
        hashes={"sha256": "0" * 64},
        upload_time=NOW,
    )


def sdist(name: str, version: str) -> FileInfo:
    fn = f"{name.replace('-', '_')}-{version}.tar.gz"
    return FileInfo(
        filename=fn,
        url=f"/files/{'1' * 64}/{fn}",
        packagetype="sdist",
        size=1,
        hashes={"sha256": "1" * 64},
        upload_time=NOW,
    )


def rel(
    name: str,
    version: str,
    *,
    python: str | None = None,
    pysetl: str | None = None,
    pyspark: str | None = None,
    yanked: bool = False,
    files: list[FileInfo] | None = None,
    requires: list[str] | None = None,
) -> Release:
    return Release(
        name=name,
        version=version,
        compatibility=Compatibility(requires_python=python, pysetl=pysetl, pyspark=pyspark),
        yanked=yanked,
        yanked_reason="broken" if yanked else None,
        files=[wheel(name, version)] if files is None else files,
        requires_dist=requires or [],
    )


def comp(name: str, *releases: Release) -> Component:
    return Component(
        name=name,
        display_name=name,
        versions=[r.version for r in releases],
        releases=list(releases),
    )


def test_newest_compatible_wins_and_the_error_names_each_reason() -> None:
    c = comp(
        "etl",
        rel("etl", "1.4.0", pysetl=">=2.0"),
        rel("etl", "1.3.0", pyspark=">=4"),
        rel("etl", "1.2.0", python=">=3.12"),
        rel("etl", "1.1.0"),
    )
    assert choose(c, SpecifierSet(), ENV).version == "1.1.0"
    with pytest.raises(ResolutionError) as info:
        choose(c, SpecifierSet(">1.1"), ENV)
    reasons = {r.version: r.reason for r in info.value.rejections}
    assert reasons["1.4.0"] == "needs pysetl>=2.0, you have 1.2.1"
    assert reasons["1.3.0"] == "needs pyspark>=4, you have 3.5.1"
    assert reasons["1.2.0"] == "needs Python >=3.12, you have 3.11.7"
    assert reasons["1.1.0"] == "excluded by >1.1"
    assert "1.4.0: needs pysetl>=2.0, you have 1.2.1" in str(info.value)


def test_yanked_only_on_an_exact_pin() -> None:
    c = comp("etl", rel("etl", "2.0.0", yanked=True), rel("etl", "1.0.0"))
    assert choose(c, SpecifierSet(), ENV).version == "1.0.0"
    with pytest.raises(ResolutionError, match="yanked"):
        choose(c, SpecifierSet(">=2"), ENV)
    with pytest.raises(ResolutionError):
        choose(c, SpecifierSet("==2.*"), ENV)
    assert choose(c, SpecifierSet("==2.0.0"), ENV).version == "2.0.0"
    assert choose(c, SpecifierSet("==2.0"), ENV).version == "2.0.0"  # equivalent versions
    assert exact_pin(SpecifierSet("===2.0.0")) and not exact_pin(SpecifierSet("==2.*"))


def test_prereleases_only_when_asked_or_alone() -> None:
    c = comp("etl", rel("etl", "2.0.0b1"), rel("etl", "1.0.0"))
    assert choose(c, SpecifierSet(), ENV).version == "1.0.0"
    assert choose(c, SpecifierSet(">=2.0.0b1"), ENV).version == "2.0.0b1"
    only_pre = comp("etl", rel("etl", "2.0.0b1"))
    assert choose(only_pre, SpecifierSet(), ENV).version == "2.0.0b1"


def test_wheel_tags_and_sdist_fallback() -> None:
    native = rel(
        "etl",
        "1.0.0",
        files=[
            wheel("etl", "1.0.0", "cp312-cp312-manylinux_2_17_x86_64"),
            wheel("etl", "1.0.0", "cp311-cp311-manylinux_2_17_x86_64"),
            wheel("etl", "1.0.0", "py3-none-any"),
        ],
    )
    picked = choose(comp("etl", native), SpecifierSet(), ENV)
    assert picked.file.filename.endswith("cp311-cp311-manylinux_2_17_x86_64.whl")
    only_sdist = rel("etl", "1.0.0", files=[sdist("etl", "1.0.0")])
    assert choose(comp("etl", only_sdist), SpecifierSet(), ENV).file.packagetype == "sdist"
    wrong = rel("etl", "1.0.0", files=[wheel("etl", "1.0.0", "cp312-cp312-win_amd64")])
    with pytest.raises(ResolutionError, match="no file for this platform"):
        choose(comp("etl", wrong), SpecifierSet(), ENV)


def test_missing_platform_package_is_not_a_rejection() -> None:
    """No pysetl installed yet: pip will bring one that satisfies the specifier."""
    bare = Environment(python_version="3.11.7", tags=ENV.tags, markers=ENV.markers)
    c = comp("etl", rel("etl", "1.0.0", pysetl=">=1.2"))
    assert choose(c, SpecifierSet(), bare).version == "1.0.0"


def test_dependencies_from_the_hub_only_when_hosted() -> None:
    catalog = {
        "app": comp(
            "app",
            rel(
                "app",
                "1.0.0",
                requires=[
                    "lib>=1.1",
                    "pandas>=2",
                    "pysetl>=1.2",
                    'winonly; sys_platform == "win32"',
                    "extra-dep; extra == 'fast'",
                ],
            ),
        ),
        "lib": comp("lib", rel("lib", "1.2.0", pysetl=">=9"), rel("lib", "1.1.0")),
        # The hub hosts a `pysetl` look-alike: it must never be taken from the hub.
        "pysetl": comp("pysetl", rel("pysetl", "99.0.0")),
        "extra-dep": comp("extra-dep", rel("extra-dep", "1.0.0")),
    }
    asked: list[str] = []

    def fetch(name: str) -> Component | None:
        asked.append(name)
        return catalog.get(name)

    plan = resolve(["app"], ENV, fetch)
    assert [(p.name, p.version, p.required_by) for p in plan.picks] == [
        ("app", "1.0.0", None),
        ("lib", "1.1.0", "app"),
    ]
    assert sorted(plan.external) == ["pandas>=2", "pysetl>=1.2"]
    assert "pysetl" not in asked and "winonly" not in asked
    with_extra = resolve(["app[fast]"], ENV, fetch)
    assert [p.name for p in with_extra.picks] == ["app", "lib", "extra-dep"]
    assert [p.name for p in resolve(["app"], ENV, fetch, with_deps=False).picks] == ["app"]


def test_constraints_from_two_parents_are_combined() -> None:
    catalog = {
        "a": comp("a", rel("a", "1.0.0", requires=["lib", "b"])),
        "b": comp("b", rel("b", "1.0.0", requires=["lib<2"])),
        "lib": comp("lib", rel("lib", "2.0.0"), rel("lib", "1.5.0")),
    }
    plan = resolve(["a"], ENV, catalog.get)
    assert {p.name: p.version for p in plan.picks}["lib"] == "1.5.0"
    catalog["c"] = comp("c", rel("c", "1.0.0", requires=["lib>=3"]))
    catalog["a"] = comp("a", rel("a", "1.0.0", requires=["lib<2", "c"]))
    with pytest.raises(ResolutionError, match="asked for: lib<2 by a; lib>=3 by c"):
        resolve(["a"], ENV, catalog.get)


def test_unknown_top_level_name_is_an_error() -> None:
    with pytest.raises(ResolutionError, match="not on this hub"):
        resolve(["nope"], ENV, lambda _: None)
    with pytest.raises(ResolutionError, match="not a valid requirement"):
        resolve(["bad name!"], ENV, lambda _: None)


def test_a_bad_requirement_names_itself_and_the_reason() -> None:
    with pytest.raises(BadRequirement) as info:
        resolve(["bad name!"], ENV, lambda _: None)
    try:
        Requirement("bad name!")
    except InvalidRequirement as exc:
        reason = str(exc)
    assert info.value.requirement == "bad name!"
    assert info.value.summary == f"'bad name!' is not a valid requirement: {reason}"


def test_a_name_the_hub_does_not_host_is_named() -> None:
    with pytest.raises(NotOnHub) as info:
        resolve(["Nope>=1"], ENV, lambda _: None)
    assert (info.value.requirement, info.value.name) == ("Nope>=1", "Nope")
    assert info.value.summary == "Nope is not on this hub"


def test_a_pre_release_platform_satisfies_a_final_specifier() -> None:
    pre = Environment(
        python_version="3.13.0rc1", pysetl="1.3.0b1", pyspark="4.0.0.dev1", tags=ENV.tags
    )
    c = comp("etl", rel("etl", "1.0.0", python=">=3.11", pysetl=">=1.2", pyspark=">=3.5"))
    assert choose(c, SpecifierSet(), pre).version == "1.0.0"


def test_an_unreadable_compatibility_specifier_is_a_rejection() -> None:
    c = comp("etl", rel("etl", "1.0.0", pysetl="not a specifier"))
    with pytest.raises(ResolutionError) as info:
        choose(c, SpecifierSet(), ENV)
    assert [(r.version, r.reason) for r in info.value.rejections] == [
        ("1.0.0", "needs pysetlnot a specifier, you have 1.2.1")
    ]


def test_the_best_wheel_whatever_the_order_of_the_files() -> None:
    bad = FileInfo(
        filename="etl-not-a-wheel.whl",
        url="/files/x/etl-not-a-wheel.whl",
        packagetype="bdist_wheel",
        size=1,
        hashes={"sha256": "2" * 64},
        upload_time=NOW,
    )
    files = [sdist("etl", "1.0.0"), bad, wheel("etl", "1.0.0")]
    picked = choose(comp("etl", rel("etl", "1.0.0", files=files)), SpecifierSet(), ENV)
    assert picked.file.filename == "etl-1.0.0-py3-none-any.whl"


def test_why_a_release_is_unusable_is_spelled_out() -> None:
    c = comp(
        "etl",
        rel("etl", "3.0.0", yanked=True),
        Release(
            name="etl",
            version="2.0.0",
            compatibility=Compatibility(),
            yanked=True,
            files=[wheel("etl", "2.0.0")],
        ),
        rel("etl", "1.1.0", files=[]),
        rel(
            "etl",
            "1.0.0",
            files=[
                wheel("etl", "1.0.0", "cp312-cp312-win_amd64"),
                wheel("etl", "1.0.0", "cp39-cp39-win32"),
            ],
        ),
    )
    with pytest.raises(ResolutionError) as info:
        choose(c, SpecifierSet(), ENV)
    assert {r.version: r.reason for r in info.value.rejections} == {
        "3.0.0": "yanked (broken); pin it with ==3.0.0 to use it anyway",
        "2.0.0": "yanked; pin it with ==2.0.0 to use it anyway",
        "1.1.0": "no file for this platform (no files)",
        "1.0.0": "no file for this platform (etl-1.0.0-cp312-cp312-win_amd64.whl, "
        "etl-1.0.0-cp39-cp39-win32.whl)",
    }


def test_an_unparsable_version_is_skipped() -> None:
    c = comp("etl", rel("etl", "not-a-version", files=[]), rel("etl", "1.0.0"))
    assert choose(c, SpecifierSet(), ENV).version == "1.0.0"
    with pytest.raises(ResolutionError) as info:
        choose(comp("etl", rel("etl", "not-a-version")), SpecifierSet(">=1"), ENV)
    assert (info.value.requirement, info.value.rejections) == ("etl>=1", [])
    assert info.value.summary == "etl has no releases"


def test_a_rejected_pre_release_says_why_it_does_not_fit() -> None:
    c = comp("etl", rel("etl", "2.0.0b1", pysetl=">=9"), rel("etl", "1.0.0", pysetl=">=9"))
    with pytest.raises(ResolutionError) as info:
        choose(c, SpecifierSet(), ENV)
    assert {r.version: r.reason for r in info.value.rejections} == {
        "2.0.0b1": "needs pysetl>=9, you have 1.2.1",
        "1.0.0": "needs pysetl>=9, you have 1.2.1",
    }


def test_a_specifier_that_names_a_pre_release_allows_newer_pre_releases() -> None:
    c = comp("etl", rel("etl", "2.0.0b1"), rel("etl", "1.0.0"))
    assert choose(c, SpecifierSet(">=1.0.0b1"), ENV).version == "2.0.0b1"


def test_a_component_needed_twice_is_picked_once_for_its_first_parent() -> None:
    catalog = {
        "a": comp("a", rel("a", "1.0.0", requires=["lib", "b"])),
        "b": comp("b", rel("b", "1.0.0", requires=["lib>=1", "c"])),
        "c": comp("c", rel("c", "1.0.0")),
        "lib": comp("lib", rel("lib", "2.0b1")),  # only a pre-release: it is taken
    }
    plan = resolve(["a"], ENV, catalog.get)
    assert [(p.name, p.version, p.required_by) for p in plan.picks] == [
        ("a", "1.0.0", None),
        ("lib", "2.0b1", "a"),
        ("b", "1.0.0", "a"),
        ("c", "1.0.0", "b"),  # found after lib was met again
    ]


def test_who_asked_for_what_when_nothing_fits() -> None:
    catalog = {
        "a": comp("a", rel("a", "1.0.0", requires=["lib>=3"])),
        "lib": comp("lib", rel("lib", "2.0.0"), rel("lib", "1.0.0")),
    }
    with pytest.raises(ResolutionError) as info:
        resolve(["lib>=3"], ENV, catalog.get)  # asked by you alone: the plain answer
    assert info.value.summary == f"no release of lib>=3 fits {ENV.describe()}"
    with pytest.raises(ResolutionError) as info:
        resolve(["a"], ENV, catalog.get)
    assert info.value.requirement == "lib>=3"
    assert info.value.summary.endswith("(asked for: lib>=3 by a)")
    with pytest.raises(ResolutionError) as info:
        resolve(["lib<2", "a"], ENV, catalog.get)
    assert info.value.summary.endswith("(asked for: lib<2 by you; lib>=3 by a)")
    assert [r.version for r in info.value.rejections] == ["2.0.0", "1.0.0"]


def test_endless_restarts_give_up_with_advice() -> None:
    """Each parent narrows `lib` just below the last pick: one restart each, past the limit."""
    count = 55
    lib = comp("lib", *(rel("lib", f"{v}.0") for v in range(count + 2, 0, -1)))
    parents = {
        f"p{i}": comp(f"p{i}", rel(f"p{i}", "1.0", requires=[f"lib<{count + 2 - i}"]))
        for i in range(1, count + 1)
    }
    catalog = {"lib": lib, **parents}
    wanted = ["lib", *parents]
    with pytest.raises(ResolutionError) as info:
        resolve(wanted, ENV, catalog.get)
    assert info.value.requirement == ", ".join(wanted)
    assert info.value.rejections == []
    assert info.value.summary == "dependencies keep conflicting; pin the versions you need"


# -- properties ---------------------------------------------------------------------------------

VERSIONS = st.sampled_from(
    ["0.9", "1.0", "1.0.1", "1.1", "1.2.0rc1", "1.2", "1.10", "2.0a1", "2.0", "2.1", "3.0"]
)
SPECS = st.sampled_from(
    [
        "",
        ">=1.0",
        "<2",
        ">=1.1,<2.1",
        "==1.0",
        "==2.0",
        "!=1.1",
        "~=1.0",
        ">=2.0a1",
        "==1.*",
        "<=1.2",
    ]
)
PY_SPECS = st.sampled_from([None, ">=3.9", ">=3.12", "<3.11", ">=3.10,<3.13"])
PYSETL_SPECS = st.sampled_from([None, ">=1.2,<2", ">=2", "<1.2", "~=1.1"])
SPARK_SPECS = st.sampled_from([None, ">=3.4,<4", ">=4", "<3.5"])
FILES = st.sampled_from(["any", "cp311", "win", "sdist"])


@st.composite
def releases(draw: st.DrawFn) -> list[Release]:
    versions = draw(st.lists(VERSIONS, min_size=1, max_size=8, unique_by=lambda v: Version(v)))
    out = []
    for v in versions:
        kind = draw(FILES)
        files = {
            "any": [wheel("etl", v)],
            "cp311": [wheel("etl", v, "cp311-cp311-manylinux_2_17_x86_64")],
            "win": [wheel("etl", v, "cp311-cp311-win_amd64")],
            "sdist": [sdist("etl", v)],
        }[kind]
        out.append(
            rel(
                "etl",
                v,
                python=draw(PY_SPECS),
                pysetl=draw(PYSETL_SPECS),
                pyspark=draw(SPARK_SPECS),
                yanked=draw(st.booleans()),
                files=files,
            )
        )
    return out


ENVS = st.builds(
    lambda py, pysetl, spark: Environment(
        python_version=py, pysetl=pysetl, pyspark=spark, tags=ENV.tags, markers=ENV.markers
    ),
    st.sampled_from(["3.9.18", "3.11.7", "3.12.1"]),
    st.sampled_from([None, "1.1.2", "1.2.1", "2.0.0"]),
    st.sampled_from([None, "3.4.4", "3.5.1", "4.0.1"]),
)


def usable(r: Release, spec: SpecifierSet, env: Environment) -> bool:
    """An independent statement of the rules (the oracle), written without the resolver."""
    v = Version(r.version)
    pinned = [s for s in spec if s.operator in ("==", "===") and "*" not in s.version]
    if r.yanked and not (len(list(spec)) == 1 and pinned):
        return False
    if v not in SpecifierSet(str(spec), prereleases=True):
        return False
    c = r.compatibility
    for want, have in (
        (c.requires_python, env.python_version),
        (c.pysetl, env.pysetl),
        (c.pyspark, env.pyspark),
    ):
        if want and have and Version(have) not in SpecifierSet(want, prereleases=True):
            return False
    return not all(f.filename.endswith("win_amd64.whl") for f in r.files)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(releases(), SPECS, ENVS)
def test_choice_satisfies_everything_and_nothing_newer_does(
    rs: list[Release], spec_text: str, env: Environment
) -> None:
    spec = SpecifierSet(spec_text)
    ok = [r for r in rs if usable(r, spec, env)]
    finals = [r for r in ok if not Version(r.version).is_prerelease]
    allowed = ok if (spec.prereleases or not finals) else finals
    try:
        pick = choose(comp("etl", *rs), spec, env)
    except ResolutionError as exc:
        assert allowed == [], f"{[r.version for r in allowed]} were usable"
        rejected = {r.version for r in exc.rejections}
        assert rejected == {r.version for r in rs}
        return
    assert usable(pick.release, spec, env)
    newest = max(allowed, key=lambda r: Version(r.version))
    assert Version(pick.version) == Version(newest.version)
