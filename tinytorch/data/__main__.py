"""`python -m tinytorch.data ...`: the command line (tinytorch.data.cli)."""
import sys

from .cli import main

sys.exit(main())
