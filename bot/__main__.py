"""`python -m bot`: the one module of `bot/` that may reach outside the core, to start the whole bot."""

import sys

from runner import main

sys.exit(main())
