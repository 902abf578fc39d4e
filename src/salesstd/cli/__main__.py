"""``python -m salesstd.cli ...`` runs the command line, as it did when cli was one module."""

from __future__ import annotations

import sys

from salesstd.cli._main import main

sys.exit(main())
