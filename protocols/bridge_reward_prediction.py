#!/usr/bin/env python3
"""Rate-based bridge: the scalar reward-amount task, FA_Ex-100% against BP.

A thin wrapper around ``spikeplast bridge reward-prediction``; every option is forwarded.
Outputs (with ``--out DIR``): ``bridge_*.json`` (tables, settings, run times), ``bridge_*.npz``
(curves) and ``bridge_*.png`` (the figure). ``--quick`` runs a smoke-sized version.
"""

from __future__ import annotations

import sys

from spikeplast.bridges.cli import main

if __name__ == "__main__":
    sys.exit(main(["reward-prediction", *sys.argv[1:]]))
