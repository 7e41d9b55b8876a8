#!/usr/bin/env python3
"""Redraw the figure of a saved protocol result: ``plot_protocol.py RESULT.json [-o FIG.png]``."""

import argparse
import json
from pathlib import Path

from spikeplast.plotting import plot_protocol_result
from spikeplast.results import save_figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("result", type=Path, help="a <protocol>.json written by spikeplast")
    parser.add_argument("-o", "--output", type=Path, help="figure file (default: next to RESULT)")
    args = parser.parse_args()
    record = json.loads(args.result.read_text(encoding="utf-8"))
    output = args.output or args.result.with_suffix(".png")
    save_figure(output, plot_protocol_result(record))
    print(output)


if __name__ == "__main__":
    main()
