#!/usr/bin/env python3
"""Run the 'sjostrom' plasticity protocol (same as `spikeplast protocol sjostrom`).

Prints the table of weight changes next to the experimental data, and with `--out DIR` writes
`DIR/sjostrom.json` (rows and metadata), `DIR/sjostrom.npz` (arrays) and `DIR/sjostrom.png` (figure).
Run with `--help` for the options (rule, backend, seed, data set, ...).
"""

import sys

from spikeplast.cli import main

if __name__ == "__main__":
    sys.exit(main(["protocol", "sjostrom", *sys.argv[1:]]))
