"""The quickstart lab: generated sparse-label videos, the two-stage run
on them and its report (``python -m tools.quickstart``).

Not installed with the package; importable from the repository root by the
tools and the tests.
"""
