"""A Babel extractor for click's help texts (client/babel.cfg; never imported at run time,
so Babel, a development tool, is imported only when pybabel calls it).

pybabel's Python extractor finds `_()` calls; click's texts are docstrings of commands and
`help=` arguments. This yields those too, cleaned as click cleans them (`inspect.cleandoc`),
which is how `localize.py` looks them up, and then everything the Python extractor finds.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

HELP_KEYWORDS = ("help", "short_help", "epilog")
DECORATORS = ("command", "group")


def _is_click_decorator(node: ast.expr) -> bool:
    func = node.func if isinstance(node, ast.Call) else node
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in DECORATORS


def help_texts(source: str) -> Iterator[tuple[int, str]]:
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and any(
            _is_click_decorator(d) for d in node.decorator_list
        ):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield node.lineno, doc
        if isinstance(node, ast.Call):
            for keyword in node.keywords:
                value = keyword.value
                if (
                    keyword.arg in HELP_KEYWORDS
                    and isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                ):
                    yield node.lineno, inspect.cleandoc(value.value)


def extract(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Any,
) -> Iterator[tuple[Any, ...]]:
    """(line, function name, message, comments), as Babel's extractors yield them."""
    from babel.messages.extract import extract_python

    source = fileobj.read()
    encoding = options.get("encoding", "utf-8")
    for lineno, text in help_texts(source.decode(encoding)):
        yield lineno, "_", text, []
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)
