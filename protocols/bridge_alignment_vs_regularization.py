#!/usr/bin/env python3
"""Rate-based bridge: Song, Xu & Lafferty 2021 — FA alignment needs an L2 penalty on the output.

A thin wrapper around ``spikeplast bridge alignment-vs-regularization``; every option is forwarded.
Outputs (with ``--out DIR``): ``bridge_*.json`` (tables, settings, run times), ``bridge_*.npz``
(curves) and ``bridge_*.png`` (the figure). ``--quick`` runs a smoke-sized version.
"""

from __future__ import annotations

import sys

from spikeplast.bridges.cli import main

if __name__ == "__main__":
    sys.exit(main(["alignment-vs-regularization", *sys.argv[1:]]))
