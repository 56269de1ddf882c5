"""Wheel tags: known families only, and the WHEEL file agreeing with the filename."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from packaging.tags import parse_tag, sys_tags

from pysetl_hub_server.errors import InvalidUpload
from pysetl_hub_server.publishing.tags import check_tag_families, check_wheel_file
from pysetl_hub_server.publishing.validate import parse_filename
from tests.server.publishing.test_validate import WHEEL, assert_nothing_stored, rejects
from tests.support.dists import Members, repack
from tests.support.live import LiveServer
from tests.support.upload import upload

# Tags seen on real wheels of the public index, one per family the specification names.
REAL = [
    "py3-none-any",
    "py2.py3-none-any",
    "py311-none-any",
    "cp37-cp37m-manylinux1_x86_64",
    "cp38-abi3-manylinux2010_i686",
    "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
    "cp312-cp312-musllinux_1_2_aarch64",
    "cp313-cp313t-manylinux_2_28_ppc64le",
    "cp312-cp312-macosx_10_9_universal2",
    "cp311-cp311-macosx_11_0_arm64",
    "cp311-cp311-win_amd64",
    "cp39-cp39-win32",
    "cp312-cp312-win_arm64",
    "pp310-pypy310_pp73-manylinux_2_17_x86_64",
    "pp39-pypy39_pp73-win_amd64",
    "graalpy311-graalpy242_311_native-manylinux_2_17_x86_64",
    "cp311-cp311-linux_armv7l",
    "cp313-cp313-ios_13_0_arm64_iphoneos",
    "cp313-cp313-android_21_arm64_v8a",
    "py3-none-manylinux_2_5_x86_64",
]

INVENTED = [
    ("py3-none-bogus_plat", "platform"),
    ("py3-none-linux_pdp11", "platform"),
    ("py3-none-manylinux_2_17_sparc", "platform"),
    ("py3-none-macosx_11_0", "platform"),
    ("py3-evil-any", "ABI"),
    ("py3-cp-any", "ABI"),
    ("xx3-none-any", "interpreter"),
    ("py-none-any", "interpreter"),
    ("py3.py99999-none-any", "interpreter"),
]


@pytest.mark.parametrize("tag", REAL)
def test_real_tags_are_accepted(tag: str) -> None:
    check_tag_families(f"x-1.0-{tag}.whl", frozenset(parse_tag(tag)))


def test_every_tag_this_interpreter_installs_is_accepted() -> None:
    check_tag_families("x-1.0-any.whl", frozenset(sys_tags()))


@pytest.mark.parametrize(("tag", "part"), INVENTED)
def test_invented_tags_are_refused_naming_the_part(tag: str, part: str) -> None:
    with pytest.raises(InvalidUpload) as caught:
        parse_filename(f"csv_dedupe-1.0.0-{tag}.whl")
    assert caught.value.code == "wheel.tag_unknown"
    assert f"the {part} tag" in caught.value.detail


@pytest.mark.parametrize(
    "filename",
    [
        'csv_dedupe-1.0.0-py3-none-"><script>.whl',
        "csv_dedupe-1.0.0-py3-none-any\u202egpj.whl",
        "csv_dedupe-1.0.0-py3-none-\x07any.whl",
        "csv_d\u0435dupe-1.0.0-py3-none-any.whl",  # a Cyrillic "e"
        "csv dedupe-1.0.0.tar.gz",
        "../csv_dedupe-1.0.0.tar.gz",
        "csv_dedupe-1.0.0.tar.gz\x00.whl",
    ],
)
def test_filenames_hold_only_the_documented_characters(filename: str) -> None:
    with pytest.raises(InvalidUpload) as caught:
        parse_filename(filename)
    assert caught.value.code == "filename.characters"
    assert ". _ - ! +" in caught.value.detail


WHEEL_FILE = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n{tags}\n"


def _wheel_file(*tags: str, version: str = "1.0", build: str | None = None) -> bytes:
    lines = "\n".join(f"Tag: {t}" for t in tags)
    text = WHEEL_FILE.format(tags=lines).replace("1.0\n", f"{version}\n", 1)
    if build is not None:
        text += f"Build: {build}\n"
    return text.encode()


@pytest.mark.parametrize(
    ("filename", "wheel"),
    [
        ("x-1.0-py3-none-any.whl", _wheel_file("py3-none-any")),
        ("x-1.0-py2.py3-none-any.whl", _wheel_file("py2-none-any", "py3-none-any")),
        ("x-1.0-py2.py3-none-any.whl", _wheel_file("py2.py3-none-any")),
        ("x-1.0-7-py3-none-any.whl", _wheel_file("py3-none-any", build="7")),
        ("x-1.0-py3-none-any.whl", _wheel_file("py3-none-any", version="1.9")),
        (
            "x-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            _wheel_file("cp311-cp311-manylinux2014_x86_64", "cp311-cp311-manylinux_2_17_x86_64"),
        ),
    ],
)
def test_wheel_file_agreeing_with_the_filename_is_accepted(filename: str, wheel: bytes) -> None:
    parsed = parse_filename(filename)
    check_wheel_file(filename, wheel, parsed.tags, parsed.build)


@pytest.mark.parametrize(
    ("filename", "wheel", "code"),
    [
        ("x-1.0-py3-none-manylinux1_x86_64.whl", _wheel_file("py3-none-any"), "tag_mismatch"),
        ("x-1.0-py2.py3-none-any.whl", _wheel_file("py3-none-any"), "tag_mismatch"),
        ("x-1.0-py3-none-any.whl", _wheel_file("py3-none-any", "py2-none-any"), "tag_mismatch"),
        ("x-1.0-py3-none-any.whl", _wheel_file(), "tag_mismatch"),
        ("x-1.0-3-py3-none-any.whl", _wheel_file("py3-none-any"), "tag_mismatch"),
        ("x-1.0-py3-none-any.whl", _wheel_file("py3-none-any", build="3"), "tag_mismatch"),
        ("x-1.0-py3-none-any.whl", _wheel_file("py3-none-any", version="2.0"), "wheel_file"),
        ("x-1.0-py3-none-any.whl", b"Generator: x\nTag: py3-none-any\n", "wheel_file"),
        ("x-1.0-py3-none-any.whl", _wheel_file("py3-none"), "wheel_file"),
    ],
)
def test_wheel_file_disagreeing_is_refused(filename: str, wheel: bytes, code: str) -> None:
    parsed = parse_filename(filename)
    with pytest.raises(InvalidUpload) as caught:
        check_wheel_file(filename, wheel, parsed.tags, parsed.build)
    assert caught.value.code == f"wheel.{code}"


def test_a_renamed_wheel_is_refused_over_http(
    live: LiveServer, http: httpx.Client, example_dists: dict[str, Path], tmp_path: Path
) -> None:
    """The built wheel says py3-none-any; calling it a manylinux wheel is a lie installers act
    on. A wheel whose WHEEL file was rewritten with it (as `wheel tags` does) is accepted."""
    token = live.user_with_token("alice")
    platform = "py3-none-manylinux_2_17_x86_64"
    renamed = repack(
        example_dists[WHEEL], tmp_path / "a", filename=f"csv_dedupe-1.0.0-{platform}.whl"
    )
    body = rejects(upload(http, token, renamed), 400, "wheel.tag_mismatch")
    assert "rebuild" in str(body["detail"])
    assert_nothing_stored(live)

    def retag(m: Members) -> None:
        key = next(k for k in m if k.endswith(".dist-info/WHEEL"))
        m[key] = m[key].replace(b"Tag: py3-none-any", f"Tag: {platform}".encode())

    retagged = repack(
        example_dists[WHEEL],
        tmp_path / "b",
        filename=f"csv_dedupe-1.0.0-{platform}.whl",
        mutate=retag,
    )
    assert upload(http, token, retagged).status_code == 200


@pytest.mark.parametrize(
    ("filename", "wheel", "detail"),
    [
        (
            "x-1.0-py3-none-manylinux1_x86_64.whl",
            _wheel_file("py3-none-any"),
            "the tags of 'x-1.0-py3-none-manylinux1_x86_64.whl' differ from those its WHEEL "
            "file declares (only in the filename: ['py3-none-manylinux1_x86_64']; only in "
            "WHEEL: ['py3-none-any']): rebuild the wheel instead of renaming it",
        ),
        (
            "x-1.0-3-py3-none-any.whl",
            _wheel_file("py3-none-any"),
            "'x-1.0-3-py3-none-any.whl' has build tag '3' but its WHEEL file says '(none)': "
            "rebuild the wheel instead of renaming it",
        ),
        (
            "x-1.0-py3-none-any.whl",
            _wheel_file("py3-none-any", build="4"),
            "'x-1.0-py3-none-any.whl' has build tag '(none)' but its WHEEL file says '4': "
            "rebuild the wheel instead of renaming it",
        ),
        (
            "x-1.0-py3-none-any.whl",
            _wheel_file("py3-none-any", version="2.0"),
            "the WHEEL file declares Wheel-Version '2.0': installers read only 1.x; rebuild "
            "with a current build backend",
        ),
        (
            "x-1.0-py3-none-any.whl",
            _wheel_file("py3-none-any", version="1." + "9" * 30),
            f"the WHEEL file declares Wheel-Version {'1.' + '9' * 18!r}: installers read only "
            "1.x; rebuild with a current build backend",
        ),
        (
            "x-1.0-py3-none-any.whl",
            _wheel_file("py3-none"),
            "the WHEEL file has a malformed Tag 'py3-none'",
        ),
    ],
)
def test_wheel_file_refusals_say_what_differs(filename: str, wheel: bytes, detail: str) -> None:
    parsed = parse_filename(filename)
    with pytest.raises(InvalidUpload) as caught:
        check_wheel_file(filename, wheel, parsed.tags, parsed.build)
    assert caught.value.detail == detail


def test_only_the_first_five_differing_tags_are_listed() -> None:
    platforms = [f"manylinux_2_{n}_x86_64" for n in range(17, 24)]
    filename = f"x-1.0-py3-none-{'.'.join(platforms)}.whl"
    parsed = parse_filename(filename)
    wheel = _wheel_file(*(f"cp3{n}-cp3{n}-win32" for n in range(7)))
    with pytest.raises(InvalidUpload) as caught:
        check_wheel_file(filename, wheel, parsed.tags, parsed.build)
    listed = caught.value.detail.split("(only in the filename: ")[1]
    assert listed.count("manylinux") == 5 and listed.count("win32") == 5


def test_an_unknown_tag_refusal_names_the_part_and_the_fix() -> None:
    with pytest.raises(InvalidUpload) as caught:
        parse_filename("x-1.0-py3-none-" + "q" * 50 + ".whl")
    assert caught.value.detail == (
        f"'x-1.0-py3-none-{'q' * 50}.whl' has the platform tag {'q' * 40!r}, which is not a "
        "known platform (any, manylinux_2_17_x86_64, win_amd64, ...) tag: rebuild the wheel "
        "with a standard build backend, which writes only tags installers understand"
    )
    with pytest.raises(InvalidUpload) as caught:
        parse_filename("x-1.0-py3-nope-any.whl")
    assert "has the ABI tag 'nope', which is not a known ABI (none, abi3, cp312, ...)" in (
        caught.value.detail
    )
