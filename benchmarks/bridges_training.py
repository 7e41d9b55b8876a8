#!/usr/bin/env python3
"""CPU cost of one training epoch per rule on MNIST-1D, BLAS on one thread vs its default.

The bridges' matrices are small (40-100-100-10, batch 32): OpenBLAS threads mostly spin, so
training limits BLAS to one thread. This prints CPU seconds per epoch both ways and the ratio.
``--quick`` times one epoch of three rules. Unknown options (from ``run_all.py``) are ignored.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from spikeplast.bridges import TrainConfig, get_rule, init_network
from spikeplast.bridges.datasets import make_mnist1d
from spikeplast.bridges.training import _train


def cpu_per_epoch(rule: str, data, epochs: int) -> float:
    if rule == "gait":
        net = init_network(
            [40] * 4, hidden="leaky_relu", output="leaky_relu", orthogonal=True, rng=0
        )
        config = TrainConfig("mse", epochs, 32, 0.02, evaluate_every=epochs, free_outputs=True)
    else:
        net = init_network([40, 100, 100, 10], hidden="relu", output="softmax", rng=0)
        config = TrainConfig("cross_entropy", epochs, 32, 0.02, evaluate_every=epochs)
    started = time.process_time()
    _train(net, get_rule(rule), data, config, 0, None, None)  # without the BLAS thread limit
    return (time.process_time() - started) / epochs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--epochs", type=int, default=5)
    args, _ = parser.parse_known_args()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("threadpoolctl is not installed: nothing to compare")
        return 0
    data = make_mnist1d(n_samples=2000)
    rules = ["bp", "fa", "ia"] if args.quick else ["bp", "fa", "dfa", "usf", "sa", "ia", "gait"]
    epochs = 1 if args.quick else args.epochs
    print(f"{'rule':<6} {'1 thread':>10} {'default':>10} {'ratio':>7}   (CPU s per epoch)")
    for rule in rules:
        with threadpool_limits(limits=1, user_api="blas"):
            single = cpu_per_epoch(rule, data, epochs)
        default = cpu_per_epoch(rule, data, epochs)
        print(f"{rule:<6} {single:>10.3f} {default:>10.3f} {default / single:>7.1f}")
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
