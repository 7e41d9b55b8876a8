"""Errors that spikeplast raises for bad input and failed simulations.

Every error a user can cause derives from :class:`SpikeplastError`. Its message is one line that
names the problem and, where there is one, the fix. The command-line interface prints that line and
exits with status 2 instead of showing a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "SpikeplastError",
    "ConfigurationError",
    "UnknownNameError",
    "ParameterError",
    "ProtocolError",
    "SimulationError",
    "BackendError",
    "suggest",
]


class SpikeplastError(Exception):
    """Base class of all errors caused by input or by a simulation going wrong."""


class ConfigurationError(SpikeplastError, ValueError):
    """A model, network or file is specified in a way that cannot work."""


class UnknownNameError(ConfigurationError, KeyError):
    """A name (rule, parameter set, protocol, backend) is not known."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class ParameterError(ConfigurationError):
    """A parameter is missing, has the wrong unit or an impossible value."""


class ProtocolError(ConfigurationError):
    """A stimulation protocol cannot be realised (negative rates, overlapping pairings, ...)."""


class SimulationError(SpikeplastError, RuntimeError):
    """A simulation produced invalid results (NaN or runaway weights) or could not run."""


class BackendError(SpikeplastError, RuntimeError):
    """A simulation backend is unknown, unavailable or failed to build."""


def suggest(name: str, known: Iterable[str]) -> str:
    """Return a ``" Did you mean ...?"`` hint listing known names close to `name`, or ``""``."""
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.5)
    if not close:
        return ""
    return " Did you mean " + " or ".join(repr(c) for c in close) + "?"
