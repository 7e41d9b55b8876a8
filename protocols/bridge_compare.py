#!/usr/bin/env python3
"""Rate-based bridge: every rule on the same network, seeds and budget (digits, mnist1d, mnist).

A thin wrapper around ``spikeplast bridge compare``; every option is forwarded.
Outputs (with ``--out DIR``): ``bridge_*.json`` (tables, settings, run times), ``bridge_*.npz``
(curves) and ``bridge_*.png`` (the figure). ``--quick`` runs a smoke-sized version.
"""

from __future__ import annotations

import sys

from spikeplast.bridges.cli import main

if __name__ == "__main__":
    sys.exit(main(["compare", *sys.argv[1:]]))
