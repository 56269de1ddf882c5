"""Wheel tags: every tag from a known family, and the WHEEL file saying what the filename says.

An installer picks a wheel by the tags in its filename and trusts them; a tag no installer
knows (`py3-none-bogus_plat`, or one holding markup) matches nothing and only serves to
carry text into pages. Families follow the platform compatibility tags specification.
"""

from __future__ import annotations

import re
from email.parser import BytesHeaderParser

from packaging.tags import Tag, parse_tag

from pysetl_hub_server.errors import InvalidUpload
from pysetl_hub_server.i18n.messages import Message, _

_ARCH_LINUX = r"(x86_64|i686|aarch64|armv6l|armv7l|ppc64|ppc64le|s390x|riscv64|loongarch64)"
_ARCH_MACOS = (
    r"(x86_64|x86_64h|arm64|arm64e|i386|intel|fat|fat3|fat32|fat64|universal|universal2|ppc|ppc64)"
)

INTERPRETER = re.compile(r"(py|cp|pp|ip|jy|graalpy)[0-9]{1,4}")
ABI = re.compile(
    r"none|abi3|cp[0-9]{2,4}[dmtu]{0,3}|pypy[0-9]{0,4}_pp[0-9]{2,4}|pypy_[0-9]{2,4}"
    r"|graalpy[0-9]{2,4}(_[0-9]{2,4}){0,2}_native"
)
PLATFORM = re.compile(
    "|".join(
        (
            "any",
            "win32|win_amd64|win_arm64|win_ia64",
            rf"linux_{_ARCH_LINUX}",
            rf"manylinux(1|2010)_(x86_64|i686)|manylinux2014_{_ARCH_LINUX}",
            rf"manylinux_[0-9]{{1,2}}_[0-9]{{1,3}}_{_ARCH_LINUX}",
            rf"musllinux_[0-9]{{1,2}}_[0-9]{{1,3}}_{_ARCH_LINUX}",
            rf"macosx_[0-9]{{1,2}}_[0-9]{{1,2}}_{_ARCH_MACOS}",
            r"ios_[0-9]{1,2}_[0-9]{1,2}_(arm64_iphoneos|arm64_iphonesimulator|x86_64_iphonesimulator)",
            r"android_[0-9]{1,2}_(arm64_v8a|armeabi_v7a|x86_64|x86)",
        )
    )
)


def _bad(code: str, detail: Message) -> InvalidUpload:
    return InvalidUpload(f"wheel.{code}", detail)


def check_tag_families(filename: str, tags: frozenset[Tag]) -> None:
    """Each interpreter, ABI and platform tag of the filename is one installers know."""
    for tag in sorted(tags, key=str):
        for part, pattern, unknown in (
            (
                tag.interpreter,
                INTERPRETER,
                _(
                    "{filename!r} has the interpreter tag {part!r}, which is not a known "
                    "interpreter (py3, cp312, pp310, ...) tag: rebuild the wheel with a standard "
                    "build backend, which writes only tags installers understand",
                    filename=filename,
                    part=tag.interpreter[:40],
                ),
            ),
            (
                tag.abi,
                ABI,
                _(
                    "{filename!r} has the ABI tag {part!r}, which is not a known ABI (none, "
                    "abi3, cp312, ...) tag: rebuild the wheel with a standard build backend, "
                    "which writes only tags installers understand",
                    filename=filename,
                    part=tag.abi[:40],
                ),
            ),
            (
                tag.platform,
                PLATFORM,
                _(
                    "{filename!r} has the platform tag {part!r}, which is not a known platform "
                    "(any, manylinux_2_17_x86_64, win_amd64, ...) tag: rebuild the wheel with a "
                    "standard build backend, which writes only tags installers understand",
                    filename=filename,
                    part=tag.platform[:40],
                ),
            ),
        ):
            if pattern.fullmatch(part) is None:
                raise _bad("tag_unknown", unknown)


def check_wheel_file(filename: str, raw: bytes, tags: frozenset[Tag], build: str) -> None:
    """The `.dist-info/WHEEL` file names a 1.x format and exactly the filename's tags."""
    headers = BytesHeaderParser().parsebytes(raw)  # lenient: never raises, drops what it can't read
    version = (headers.get("Wheel-Version") or "").strip()
    if re.fullmatch(r"1\.[0-9]{1,3}", version) is None:
        raise _bad(
            "wheel_file",
            _(
                "the WHEEL file declares Wheel-Version {version!r}: installers read only 1.x; "
                "rebuild with a current build backend",
                version=version[:20],
            ),
        )
    declared: set[Tag] = set()
    for value in headers.get_all("Tag") or []:
        try:
            declared |= parse_tag(value.strip())
        except ValueError as exc:
            raise _bad(
                "wheel_file", _("the WHEEL file has a malformed Tag {value!r}", value=value)
            ) from exc
    if declared != tags:
        only_file = sorted(str(t) for t in tags - declared)
        only_wheel = sorted(str(t) for t in declared - tags)
        raise _bad(
            "tag_mismatch",
            _(
                "the tags of {filename!r} differ from those its WHEEL file declares (only in "
                "the filename: {only_file}; only in WHEEL: {only_wheel}): rebuild the wheel "
                "instead of renaming it",
                filename=filename,
                only_file=only_file[:5],
                only_wheel=only_wheel[:5],
            ),
        )
    wheel_build = (headers.get("Build") or "").strip()
    if wheel_build != build:
        raise _bad(
            "tag_mismatch",
            _(
                "{filename!r} has build tag {build!r} but its WHEEL file says {wheel_build!r}: "
                "rebuild the wheel instead of renaming it",
                filename=filename,
                build=build or "(none)",
                wheel_build=wheel_build or "(none)",
            ),
        )
