"""Fixtures of the api tests (see ``apis_test_utils``)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apis_test_utils import (clip_dir, clip_mp4, synthetic,  # noqa: E402,F401
                             tiny_checkpoint, tiny_model)
