"""``python -m spikeplast.sweep CONFIG.toml ...`` runs ``spikeplast sweep``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
