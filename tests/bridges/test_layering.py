"""The rate-based bridges must never import Brian2, directly or through another module."""

from __future__ import annotations

import subprocess
import sys


def test_bridges_do_not_import_brian2():
    code = (
        "import sys, spikeplast.bridges, spikeplast.bridges.cli, spikeplast.bridges.experiments; "
        "assert 'brian2' not in sys.modules, sorted(m for m in sys.modules if 'brian' in m)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
