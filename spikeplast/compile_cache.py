"""A content-addressed cache of compiled object files for C++ standalone projects.

Every standalone run gets its own project directory (so parallel runs never collide), which would
normally mean compiling the whole project every time (~8 s here). During a build spikeplast points
``make``'s ``$(CXX)`` at this module, which acts like ``ccache`` in "direct mode":

* ``-c source.cpp -o source.o``: the key is the compiler's identity, the flags, the source file
  and every header of the project. A hit copies the stored object file; a miss compiles and
  stores the result.
* ``-MM`` (the dependency listing Brian2's makefile makes): cached the same way (its output).
* Everything else (linking) runs the real compiler.

Entries are written atomically, so concurrent builds can share the cache. System headers are
assumed to change only with the compiler, whose path, size and modification time are in the key.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["cached_compiler", "object_cache_dir", "main"]

_ENV_CACHE = "SPIKEPLAST_OBJECT_CACHE"
_ENV_REAL = "SPIKEPLAST_REAL_CXX"


def object_cache_dir() -> Path:
    """Where object files are cached (``$SPIKEPLAST_OBJECT_CACHE`` or ``<cache>/objects``)."""
    if os.environ.get(_ENV_CACHE):
        return Path(os.environ[_ENV_CACHE])
    from .backend import cache_root

    return cache_root() / "objects"


@contextlib.contextmanager
def cached_compiler(backend: str) -> Iterator[None]:
    """Route the C++ compiler of standalone builds through the object cache (cpp_standalone)."""
    if backend != "cpp_standalone" or os.environ.get("SPIKEPLAST_NO_OBJECT_CACHE"):
        yield
        return
    saved = {key: os.environ.get(key) for key in ("CXX", _ENV_CACHE, _ENV_REAL)}
    real = os.environ.get("CXX", "g++")
    os.environ[_ENV_REAL] = real
    os.environ[_ENV_CACHE] = str(object_cache_dir())
    os.environ["CXX"] = f"{shlex.quote(sys.executable)} -m spikeplast.compile_cache"
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _compiler_identity(compiler: list[str]) -> bytes:
    resolved = None
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        candidate = Path(directory) / compiler[0]
        if candidate.is_file():
            resolved = candidate.resolve()
            break
    if resolved is None:
        return compiler[0].encode()
    stat = resolved.stat()
    return f"{resolved}:{stat.st_size}:{stat.st_mtime_ns}".encode()


def _project_headers_digest(root: Path) -> bytes:
    digest = hashlib.sha256()
    for header in sorted(root.rglob("*.h")):
        digest.update(str(header.relative_to(root)).encode())
        digest.update(header.read_bytes())
    return digest.digest()


def _key(compiler: list[str], args: list[str], inputs: list[Path]) -> str:
    digest = hashlib.sha256()
    digest.update(_compiler_identity(compiler))
    digest.update("\0".join(args).encode())
    for path in inputs:
        digest.update(str(path).encode())
        digest.update(path.read_bytes())
    digest.update(_project_headers_digest(Path.cwd()))
    return digest.hexdigest()


def _store(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp_")
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
    os.replace(temporary, path)


def main(argv: list[str] | None = None) -> int:
    """Compiler front end used as ``$(CXX)``: cache ``-c`` compilations and ``-MM`` listings."""
    args = list(sys.argv[1:] if argv is None else argv)
    compiler = shlex.split(os.environ.get(_ENV_REAL, "g++"))
    cache = Path(os.environ.get(_ENV_CACHE) or object_cache_dir())
    sources = [Path(a) for a in args if a.endswith((".cpp", ".c")) and not a.startswith("-")]
    dependency_listing = "-MM" in args
    compiling = "-c" in args and "-o" in args and len(sources) == 1 and not dependency_listing
    if not (compiling or dependency_listing) or not all(s.is_file() for s in sources):
        return subprocess.call(compiler + args)
    if compiling:
        output = Path(args[args.index("-o") + 1])
        flags = [a for a in args if Path(a) not in sources and a != str(output)]
        entry = cache / "o" / _key(compiler, flags, sources)
        if entry.is_file():
            _store(output, entry.read_bytes())
            return 0
        status = subprocess.call(compiler + args)
        if status == 0 and output.is_file():
            with contextlib.suppress(OSError):
                _store(entry, output.read_bytes())
        return status
    entry = cache / "deps" / _key(compiler, args, sources)
    if entry.is_file():
        sys.stdout.buffer.write(entry.read_bytes())
        return 0
    result = subprocess.run(compiler + args, stdout=subprocess.PIPE)
    sys.stdout.buffer.write(result.stdout)
    if result.returncode == 0:
        with contextlib.suppress(OSError):
            _store(entry, result.stdout)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
