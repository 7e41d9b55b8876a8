"""``python -m spikeplast.bridges EXPERIMENT ...`` runs the ``bridge`` command on its own."""

import sys

from .cli import main

sys.exit(main())
