"""`python -m flight_server`: the same as the `fletchdb` command (serve by default)."""

import sys

from .cli import main

sys.exit(main())
