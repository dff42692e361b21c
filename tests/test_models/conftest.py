"""Fixtures of the model tests; puts ``model_test_utils`` on the path."""
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)
