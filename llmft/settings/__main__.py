"""`python -m llmft.settings [AREA|VARIABLE ...]`: a README table of environment variables, from the settings home.
With no argument, one table per area."""

import sys

from llmft.errors import ConfigError
from llmft.settings import AREAS, markdown_table

try:
    if sys.argv[1:]:
        print(markdown_table(*sys.argv[1:]))
    else:
        for area in AREAS:
            if area != "local-server":
                print(f"### {area}\n\n{markdown_table(area)}\n")
except ConfigError as err:
    sys.exit(str(err))
