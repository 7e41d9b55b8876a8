"""``python -m spikeplast.demos NAME [options]`` runs ``spikeplast demo NAME [options]``."""

import sys

from .cli import main

sys.exit(main())
