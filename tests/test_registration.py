"""Importing posewarper_mm registers its modules into mmpose's registries."""
import importlib
import inspect
import subprocess
import sys

from mmpose import registry as mmpose_registry

import posewarper_mm  # noqa: F401
from tests.testing import REPO_ROOT

EXPECTED = {
    'DATASETS': {'PoseTrackVideoPairDataset'},
    'TRANSFORMS':
    {'LoadVideoFrames', 'PackVideoPoseInputs', 'RandomKeyFrameOcclusion'},
    'MODELS': {
        'MultiFramePoseDataPreprocessor', 'PoseWarpingNeck',
        'TemporalAggregationHead', 'PoseWarperEstimator'
    },
    'METRICS': {'PoseTrackAPMetric'},
    'HOOKS': {
        'AtomicCheckpointHook', 'InitialWeightsCheckHook',
        'PreflightCheckHook', 'SaveTestMetricsHook'
    },
}


def _ours(registry):
    return {
        name
        for name, obj in registry.module_dict.items()
        if inspect.isclass(obj) and obj.__module__.startswith('posewarper_mm')
    }


def test_expected_modules_registered_in_mmpose_registries():
    for reg_name, names in EXPECTED.items():
        registry = getattr(mmpose_registry, reg_name)
        assert registry.scope == 'mmpose'
        assert names <= _ours(registry), (reg_name, _ours(registry))


def test_mmpose_own_modules_untouched():
    """mmpose's classes of similar names stay mmpose's."""
    importlib.import_module('mmpose.models')
    importlib.import_module('mmpose.datasets')
    importlib.import_module('mmpose.evaluation')
    for reg_name, name in [('MODELS', 'PoseWarperNeck'),
                           ('DATASETS', 'PoseTrack18VideoDataset'),
                           ('METRICS', 'PoseTrack18Metric')]:
        cls = getattr(mmpose_registry, reg_name).get(name)
        assert cls.__module__.startswith('mmpose.'), (name, cls.__module__)


def test_registered_names_listed():
    """Every class this package registers is one the project documents."""
    documented = set().union(*EXPECTED.values())
    found = set()
    for reg_name in ('DATASETS', 'TRANSFORMS', 'MODELS', 'METRICS', 'HOOKS',
                     'KEYPOINT_CODECS', 'VISUALIZERS'):
        found |= _ours(getattr(mmpose_registry, reg_name))
    undocumented = found - documented
    assert not undocumented, f'add these to EXPECTED: {undocumented}'


def test_import_leaves_generator_and_test_helpers_out():
    """``import posewarper_mm`` imports neither the synthetic generator nor
    the test helpers (checked in a fresh interpreter)."""
    code = ('import sys, posewarper_mm; '
            'print(sorted(m for m in sys.modules if "synthetic" in m '
            'or m.startswith("tests.testing")))')
    proc = subprocess.run([sys.executable, '-c', code],
                          cwd=str(REPO_ROOT),
                          stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == '[]', proc.stdout
