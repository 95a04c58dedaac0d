"""`python -m flight_server`: the same as the `fletchdb` command (`python -m flight_server serve`)."""

import sys

from .cli import main

sys.exit(main())
