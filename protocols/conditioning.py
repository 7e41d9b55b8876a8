#!/usr/bin/env python3
"""Run the Izhikevich (2007) classical-conditioning demo (same as `spikeplast demo conditioning`).

Prints the outcome (rewarded weight against the other synapses, rewards, firing rates); with
`--out DIR` it writes `DIR/conditioning.json`, `.npz` and `.png`. `--duration 3600` runs the
original hour of biological time. Run with `--help` for the options (seed, backend, ...).
"""

import sys

from spikeplast.demos.cli import main

if __name__ == "__main__":
    sys.exit(main(["conditioning", *sys.argv[1:]]))
