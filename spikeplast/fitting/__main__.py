"""``python -m spikeplast.fitting RULE --data ...`` runs the ``fit`` command on its own."""

import sys

from .cli import main

sys.exit(main())
