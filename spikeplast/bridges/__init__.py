"""Rate-based bridges: backprop and its biologically plausible relatives, in NumPy.

Multi-layer rate networks (:mod:`.network`) trained by exact backprop (:mod:`.backprop`), fixed
and sign-following feedback (:mod:`.feedback_alignment`: FA, DFA, uSF/brSF/frSF, FA_Ex-100%),
learned feedback (:mod:`.learned_feedback`: the Kunin et al. 2020 family and Kolen-Pollack) and
GAIT-prop (:mod:`.gait`). Every run reports weight and update alignment (:mod:`.metrics`).

This package never imports Brian2; the spiking side compares against it, not the other way round.
"""

from __future__ import annotations

from .backprop import Backprop, ExtremeLearningMachine, bp_update
from .datasets import load_task, make_mnist1d, reward_prediction_task
from .errors import (
    BridgeError,
    IncompatibleRuleError,
    ShapeError,
    TrainingDivergedError,
    UnknownBridgeNameError,
)
from .feedback_alignment import (
    DirectFeedbackAlignment,
    FAExcitatory,
    FeedbackAlignment,
    SignSymmetry,
    dfa_update,
    fa_update,
    three_factor_update,
)
from .gait import GaitProp
from .learned_feedback import (
    LearnedFeedback,
    activation_alignment,
    information_alignment,
    kolen_pollack,
    symmetric_alignment,
    weight_mirror,
)
from .metrics import angle, feedback_norm_ratio, update_alignment, weight_alignment
from .network import Forward, RateNetwork, forward, init_network, loss_value, output_error
from .rule import Rule, compute_gradients, rule_update
from .rules import RULES, get_rule, rule_label
from .training import Dataset, History, TrainConfig, TrainResult, train

__all__ = [
    "Backprop",
    "ExtremeLearningMachine",
    "FeedbackAlignment",
    "DirectFeedbackAlignment",
    "SignSymmetry",
    "FAExcitatory",
    "LearnedFeedback",
    "GaitProp",
    "symmetric_alignment",
    "activation_alignment",
    "weight_mirror",
    "information_alignment",
    "kolen_pollack",
    "Rule",
    "RULES",
    "get_rule",
    "rule_label",
    "RateNetwork",
    "Forward",
    "init_network",
    "forward",
    "output_error",
    "loss_value",
    "compute_gradients",
    "rule_update",
    "bp_update",
    "fa_update",
    "dfa_update",
    "three_factor_update",
    "angle",
    "weight_alignment",
    "update_alignment",
    "feedback_norm_ratio",
    "Dataset",
    "TrainConfig",
    "History",
    "TrainResult",
    "train",
    "load_task",
    "make_mnist1d",
    "reward_prediction_task",
    "BridgeError",
    "ShapeError",
    "IncompatibleRuleError",
    "UnknownBridgeNameError",
    "TrainingDivergedError",
]
