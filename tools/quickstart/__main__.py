"""``python -m tools.quickstart``: the main job (see :mod:`.pipeline`)."""
from .pipeline import main

main()
