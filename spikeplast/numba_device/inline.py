"""Source-level inlining of code-object blocks into the generated time loop.

Calling a compiled function from the time loop costs a (atomic) reference-count update per array
argument and makes Numba re-optimise the callee inside every caller.  The device therefore pastes
the body of every block that runs in the loop into the loop function itself, after renaming the
block's local variables so that blocks cannot interfere (``v`` becomes ``v__3``).
"""

from __future__ import annotations

import builtins
import io
import keyword
import tokenize
from collections.abc import Callable, Iterable

__all__ = ["rename_names", "local_names"]

_BUILTINS = set(dir(builtins)) | set(keyword.kwlist)


def _name_tokens(source: str) -> Iterable[tuple[int, int, int, str]]:
    """(line index, start column, end column, name) of every name that is not an attribute."""
    previous = None
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME and not (
            previous is not None and previous.type == tokenize.OP and previous.string == "."
        ):
            (row, start), (_, end) = token.start, token.end
            yield row - 1, start, end, token.string
        if token.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
            previous = token


def rename_names(source: str, rename: Callable[[str], str | None]) -> str:
    """Replace every variable name `n` of `source` by ``rename(n)`` (``None``: keep it)."""
    lines = source.split("\n")
    replacements: dict[int, list[tuple[int, int, str]]] = {}
    for row, start, end, name in _name_tokens(source):
        new = rename(name)
        if new is not None and new != name:
            replacements.setdefault(row, []).append((start, end, new))
    for row, spans in replacements.items():
        line = lines[row]
        for start, end, new in sorted(spans, reverse=True):
            line = line[:start] + new + line[end:]
        lines[row] = line
    return "\n".join(lines)


def local_names(source: str, global_names: set[str]) -> set[str]:
    """Names of `source` that are neither in `global_names` nor Python builtins/keywords."""
    return {
        name
        for _, _, _, name in _name_tokens(source)
        if name not in global_names and name not in _BUILTINS
    }
