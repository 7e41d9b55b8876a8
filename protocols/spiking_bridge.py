#!/usr/bin/env python3
"""The bridge to spikes: the FA_Ex-100% update as a spiking three-factor rule.

A thin wrapper around ``spikeplast bridge spiking-angle`` and ``spikeplast bridge spiking-train``;
the first argument picks the experiment (``angle`` or ``train``), every other option is
forwarded. Outputs (with ``--out DIR``): ``bridge_spiking_{angle,train}.json`` (tables, settings,
run times), ``.npz`` (curves, updates, weights) and ``.png`` (the figure). ``--quick`` runs a
smoke-sized version.

    python protocols/spiking_bridge.py angle --out results/bridges
    python protocols/spiking_bridge.py train --out results/bridges
"""

from __future__ import annotations

import sys

from spikeplast.bridges.cli import main

if __name__ == "__main__":
    experiment, *rest = sys.argv[1:] or ["angle"]
    if experiment not in ("angle", "train"):
        print(f"usage: {sys.argv[0]} angle|train [options]", file=sys.stderr)
        sys.exit(2)
    sys.exit(main([f"spiking-{experiment}", *rest]))
