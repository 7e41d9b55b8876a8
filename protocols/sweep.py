#!/usr/bin/env python3
"""Run a parameter sweep (same as `spikeplast sweep CONFIG.toml`).

Runs every point of a sweep configuration (``models/sweeps/*.toml``) on a Dask LocalCluster, on an
existing Dask scheduler (``--scheduler ADDRESS``) or serially (``--serial``), and writes one row per
point, a table (``results.csv``) and a figure (``sweep.png``) to the results folder. An interrupted
sweep resumes when run again. See ``docs/sweeps.md``; run with ``--help`` for the options.
"""

import sys

from spikeplast.sweep.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
