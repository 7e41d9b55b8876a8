#!/usr/bin/env python3
"""Run the 'pairing' plasticity protocol (same as `spikeplast protocol pairing`).

Prints the table of weight changes next to the experimental data, and with `--out DIR` writes
`DIR/pairing.json` (rows and metadata), `DIR/pairing.npz` (arrays) and `DIR/pairing.png` (figure).
Run with `--help` for the options (rule, backend, seed, data set, ...).
"""

import sys

from spikeplast.cli import main

if __name__ == "__main__":
    sys.exit(main(["protocol", "pairing", *sys.argv[1:]]))
