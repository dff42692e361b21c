"""Fixtures of the evaluation tests; puts ``posetrack_test_utils`` on the
path."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
