"""``python -m lablens`` runs the ``lablens`` command."""

import sys

from lablens.cli import main

sys.exit(main())
