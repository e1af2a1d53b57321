"""`python -m app` runs the `serra` command line."""

import sys

from app.cli import main

sys.exit(main())
