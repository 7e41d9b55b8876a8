"""Import layering: the package root and the rate-based bridges never import Brian2."""

from __future__ import annotations

import subprocess
import sys


def test_package_root_does_not_import_brian2():
    code = "import sys, spikeplast; assert 'brian2' not in sys.modules, 'brian2 imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
