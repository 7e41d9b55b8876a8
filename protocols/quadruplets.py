#!/usr/bin/env python3
"""Run the 'quadruplets' plasticity protocol (same as `spikeplast protocol quadruplets`).

Prints the table of weight changes next to the experimental data; with `--out DIR` it
writes `DIR/quadruplets.json` (rows, metadata), `.npz` (arrays) and `.png` (figure).
Run with `--help` for the options (rule, backend, seed, data set, ...).
"""

import sys

from spikeplast.cli import main

if __name__ == "__main__":
    sys.exit(main(["protocol", "quadruplets", *sys.argv[1:]]))
