"""The rule registry: every learning rule of the bridges under a short name.

``get_rule("fa")`` returns a fresh rule object; keyword arguments set its parameters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import suggest
from .backprop import Backprop, ExtremeLearningMachine
from .errors import UnknownBridgeNameError
from .feedback_alignment import (
    DirectFeedbackAlignment,
    FAExcitatory,
    FeedbackAlignment,
    SignSymmetry,
)
from .gait import GaitProp
from .learned_feedback import (
    activation_alignment,
    information_alignment,
    kolen_pollack,
    symmetric_alignment,
    weight_mirror,
)
from .rule import Rule

__all__ = ["RULES", "RULE_DESCRIPTIONS", "get_rule", "rule_label"]

RULES: dict[str, Callable[..., Rule]] = {
    "bp": Backprop,
    "fa": FeedbackAlignment,
    "dfa": DirectFeedbackAlignment,
    "usf": lambda **kw: SignSymmetry(magnitude="unit", **kw),
    "brsf": lambda **kw: SignSymmetry(magnitude="batchwise_random", **kw),
    "frsf": lambda **kw: SignSymmetry(magnitude="fixed_random", **kw),
    "fa_ex": FAExcitatory,
    "fa_ex_signed": lambda **kw: FAExcitatory(modulator="signed", **kw),
    "fa_ex_dale": lambda **kw: FAExcitatory(nonnegative_output=True, **kw),
    "sa": symmetric_alignment,
    "aa": activation_alignment,
    "wm": weight_mirror,
    "ia": information_alignment,
    "kp": kolen_pollack,
    "gait": GaitProp,
    "elm": ExtremeLearningMachine,
}

RULE_DESCRIPTIONS: dict[str, str] = {
    "bp": "exact backprop (reference)",
    "fa": "feedback alignment, fixed random B (Lillicrap 2016)",
    "dfa": "direct feedback alignment (Nøkland 2016)",
    "usf": "sign symmetry, uniform magnitude (Liao 2016)",
    "brsf": "sign symmetry, batchwise random magnitude (Xiao 2018)",
    "frsf": "sign symmetry, fixed random magnitude (Xiao 2018)",
    "fa_ex": "FA_Ex-100%, all-ones feedback, scalar outputs (Konishi 2023)",
    "fa_ex_signed": "FA_Ex with a signed per-neuron modulator (multi-output)",
    "fa_ex_dale": "FA_Ex-100% with output weights kept >= 0 (excitatory)",
    "sa": "Symmetric Alignment, decay + self (Kunin 2020)",
    "aa": "Activation Alignment, sparse + amp (Kunin 2020)",
    "wm": "Weight Mirror, decay + amp on noise (Akrout 2019)",
    "ia": "Information Alignment, amp + null + decay (Kunin 2020)",
    "kp": "Kolen-Pollack, tied updates + decay (Akrout 2019)",
    "gait": "GAIT-prop, square invertible layers (Ahmad 2020)",
    "elm": "extreme learning machine, fixed hidden layers",
}


def get_rule(name: str, **parameters: Any) -> Rule:
    """A rule object by registry name, with optional parameters."""
    try:
        factory = RULES[name]
    except KeyError:
        raise UnknownBridgeNameError(
            f"unknown rule {name!r}.{suggest(name, RULES)} Known rules: {', '.join(RULES)}"
        ) from None
    try:
        return factory(**parameters)
    except TypeError as error:
        raise UnknownBridgeNameError(
            f"rule {name!r}: bad parameters {parameters}: {error}"
        ) from None


def rule_label(rule: Rule) -> str:
    """Short name of a rule object (its registry name where it has one)."""
    label = getattr(rule, "label", None) or rule.name
    if rule.name == "sign_symmetry":
        return {"unit": "usf", "batchwise_random": "brsf", "fixed_random": "frsf"}.get(
            rule.magnitude, label
        )
    if rule.name == "fa_ex" and rule.modulator == "signed":
        return "fa_ex_signed"
    if rule.name == "fa_ex" and rule.nonnegative_output:
        return "fa_ex_dale"
    return label
