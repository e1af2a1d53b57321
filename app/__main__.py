"""`python -m app` runs the `serra` command line."""

import sys

from app.cli import main

# The guard matters: what-if seasons run in spawned processes, which import this module again.
if __name__ == "__main__":
    sys.exit(main())
