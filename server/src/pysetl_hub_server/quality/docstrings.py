"""Whether an entry point's object has a docstring, read from its source with `ast`: the
package is never imported (an upload's code never runs on the hub)."""

from __future__ import annotations

import ast

# A module bigger than this is not parsed (its entry point counts as undocumented).
MAX_SOURCE = 1024 * 1024


def split_value(value: str) -> tuple[str, str]:
    """`pkg.mod:Obj.attr [extra]` -> (`pkg.mod`, `Obj.attr`); no `:` names the module."""
    value = value.split("[", 1)[0].strip()
    module, _sep, attr = value.partition(":")
    return module.strip(), attr.strip()


def module_paths(module: str) -> list[str]:
    """Where a module's source sits inside a distribution (relative to its root)."""
    base = module.replace(".", "/")
    return [f"{base}.py", f"{base}/__init__.py"]


def has_docstring(source: bytes, attr: str) -> bool:
    """Does the object `attr` (dotted, top-level first; empty: the module) have a docstring?"""
    if len(source) > MAX_SOURCE:
        return False
    try:
        node: ast.AST = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    for part in [p for p in attr.split(".") if p]:
        found = _child(node, part)
        if found is None:
            return False
        node = found
    if not isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
        return False
    doc = ast.get_docstring(node)
    return bool(doc and doc.strip())


def _child(node: ast.AST, name: str) -> ast.AST | None:
    """The class or function called `name` defined directly in `node` (the last one wins,
    as at run time)."""
    found: ast.AST | None = None
    for stmt in getattr(node, "body", []):
        if (
            isinstance(stmt, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and stmt.name == name
        ):
            found = stmt
    return found
