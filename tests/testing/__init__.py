"""Helpers of the test suite, imported as ``tests.testing.<module>``.

- :mod:`.models`: tiny PoseWarper / single-frame model configs and inputs.
- :mod:`.posetrack_files`: small official-format PoseTrack18 files.
- :mod:`.clips`: the tiny quickstart model, generated clips and videos
  for the api and demo tests.
- :mod:`.tiny_topdown_experiment`: a tiny COCO experiment and helpers to
  run the tools in a subprocess (engine and tool tests).
- :mod:`.tiny_quickstart`: the quickstart configs on tiny generated
  videos with a short schedule (tool tests).
- :func:`load_tool`: import a script of ``tools/`` or ``demo/``.
"""
from pathlib import Path

from tools import REPO_ROOT as _REPO_ROOT
from tools import load_tool

REPO_ROOT = Path(_REPO_ROOT)

__all__ = ['REPO_ROOT', 'load_tool']
