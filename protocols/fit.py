#!/usr/bin/env python3
"""Fit a plasticity rule's parameters to experimental data (same as `spikeplast fit`).

Without arguments it fits the minimal all-to-all triplet rule to the Sjöström et al. (2001)
data and writes `results/fit/fit.{json,npz,png}`; otherwise the arguments are those of
`spikeplast fit` (run with `--help`), e.g.::

    python protocols/fit.py pfister2006-visual-nn-minimal --data sjostrom2001 --ci bootstrap
"""

import sys

from spikeplast.cli import main

DEFAULT = ["pfister2006-visual-aa-minimal", "--data", "sjostrom2001", "--out", "results/fit"]

if __name__ == "__main__":
    sys.exit(main(["fit", *(sys.argv[1:] or DEFAULT)]))
