"""``python -m spikeplast`` runs the ``spikeplast`` command."""

import sys

from .cli import main

sys.exit(main())
