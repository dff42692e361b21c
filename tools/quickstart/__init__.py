"""The quickstart lab (not installed): generated sparse-label videos, the
two-stage run on them and its report (``python -m tools.quickstart``)."""
