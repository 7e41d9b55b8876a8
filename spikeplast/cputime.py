"""CPU time accounting, robust to other load on shared machines (no Brian2 import)."""

from __future__ import annotations

__all__ = ["cpu_seconds"]


def cpu_seconds() -> float:
    """CPU seconds used so far by this process and its finished children (a compiled binary).

    NaN where the platform has no ``resource`` module (Windows).
    """
    try:
        import resource
    except ImportError:
        return float("nan")
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total
