"""Helpers of the test suite (not imported by ``import posewarper_mm``).

- :mod:`.models`: tiny PoseWarper / single-frame model configs and inputs.
- :mod:`.posetrack_files`: small official-format PoseTrack18 files.
- :mod:`.clips`: the tiny quickstart model, generated clips and videos
  for the api and demo tests.
- :mod:`.tiny_topdown_experiment`: a tiny COCO experiment and helpers to
  run the tools in a subprocess (engine and tool tests).
- :mod:`.tiny_quickstart`: the quickstart configs on tiny generated
  videos with a short schedule (tool tests and
  ``tools/analysis/repeat_dist_runs.py``).
- :func:`load_tool`: import a script of ``tools/`` or ``demo/``.
"""
from .tool_loader import REPO_ROOT, load_tool

__all__ = ['REPO_ROOT', 'load_tool']
