"""`python -m llmft.settings [AREA ...]`: the READMEs' tables of environment variables, from the settings home."""

import sys

from llmft.settings import AREAS, markdown_table

areas = sys.argv[1:] or [area for area in AREAS if area != "local-server"]
unknown = [area for area in areas if area not in AREAS]
if unknown:
    sys.exit(f"unknown area(s) {', '.join(unknown)}; the areas: {', '.join(AREAS)}")
for area in areas:
    print(f"### {area}\n\n{markdown_table(area)}\n")
