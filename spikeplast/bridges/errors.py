"""Errors raised by the rate-based bridges.

They derive from the package-wide :class:`spikeplast.errors.SpikeplastError`, so the ``spikeplast``
command prints their one-line message and exits with status 2 instead of showing a traceback.
Bad input (shapes, unknown names, a rule used where it cannot work) raises a ``ValueError``
subclass; a run that diverges raises :class:`TrainingDivergedError`.
"""

from __future__ import annotations

from ..errors import ConfigurationError, SimulationError, UnknownNameError

__all__ = [
    "BridgeError",
    "ShapeError",
    "IncompatibleRuleError",
    "UnknownBridgeNameError",
    "TrainingDivergedError",
]


class BridgeError(ConfigurationError):
    """Bad input to the rate-based bridges (a ``ValueError``)."""


class ShapeError(BridgeError):
    """Arrays whose shapes do not fit the network or each other."""


class IncompatibleRuleError(BridgeError):
    """A rule used with a loss or an architecture it cannot handle; the message says why."""


class UnknownBridgeNameError(UnknownNameError, BridgeError):
    """An unknown rule, activation, loss or task name."""


class TrainingDivergedError(SimulationError):
    """Training produced NaN or infinite weights; the message names the layer and the step."""
