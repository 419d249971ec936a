"""``python -m benchmarks``: the side-by-side suite (see :mod:`benchmarks.run`)."""

import sys

from benchmarks.run import main

sys.exit(main())
