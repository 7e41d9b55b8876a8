"""Helpers shared by rules that integrate synaptic state lazily (in closed form at events).

Such rules keep the time of each synapse's last update (``t_last_update``) and, at every event
(pre- or postsynaptic spike, modulator spike, periodic update), first bring the synapse from that
time to now with the exact solution of its linear dynamics, then apply the event's jump.
"""

from __future__ import annotations

import logging

__all__ = ["CATCH_UP_MARKER", "CATCH_UP_VARIABLE", "silence_expected_order_warning"]

#: First statement of every catch-up block; Brian2 quotes it in its order-dependence warning.
CATCH_UP_MARKER = "since_update = t - t_last_update"
CATCH_UP_VARIABLE = "since_update"

_WARNING_TEXT = "may not be well-defined"


class _ExpectedOrderWarning(logging.Filter):
    """Drops Brian2's order-dependence warning for code blocks known to be order-independent."""

    def __init__(self) -> None:
        super().__init__()
        self.first_variables: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _WARNING_TEXT not in message:
            return True
        return not any(f"first line is: '{name} := " in message for name in self.first_variables)


_FILTER = _ExpectedOrderWarning()


def silence_expected_order_warning(first_variable: str = CATCH_UP_VARIABLE) -> None:
    """Hide Brian2's "outcome may depend on the order of execution" warning for one code block.

    Brian2 warns when synaptic code writes to targets that may repeat and cannot prove the
    result independent of the order. The modulator pathway of a lazily integrated rule writes
    to the plastic synapses from every modulator neuron; its catch-up blocks are nonetheless
    order-independent: a catch-up is idempotent within a time step (the second one sees zero
    elapsed time) and the jumps that follow add. Pass the temporary variable the block defines
    first (its first statement is ``name = ...``; choose a distinctive name); the warning of any
    other code is kept.
    """
    _FILTER.first_variables.add(first_variable)
    logger = logging.getLogger("brian2.codegen.generators.base")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
