"""`python -m web`: what `mat web` runs."""
import sys

from web.serve import main

sys.exit(main())
