"""Checks that the installed OpenMMLab stack can run this package."""
import importlib
from typing import Tuple

from mmengine.utils import digit_version

from ..errors import StackError
from ..version import MMCV_RANGE, MMENGINE_RANGE, MMPOSE_RANGE

_FIX_OPS = (
    'posewarper_mm needs mmcv built with its compiled ops (mmcv.ops), '
    'but `import mmcv._ext` failed: {err}. Reinstall mmcv from source with '
    'ops, e.g. run `bash tools/env/setup_env.sh` from the posewarper_mm '
    'repository (it builds mmcv 2.1.0 with MMCV_WITH_OPS=1 and caches the '
    'wheel), or install a prebuilt `mmcv` wheel matching your torch/CUDA '
    'with `mim install mmcv==2.1.0`. The "mmcv-lite" package has no ops.')


def _check_range(name: str, installed: str, bounds: Tuple[str, str]) -> None:
    low, high = bounds
    if not (digit_version(low) <= digit_version(installed) <
            digit_version(high)):
        raise StackError(
            f'posewarper_mm supports {name}>={low},<{high}, but {name}=='
            f'{installed} is installed. Install the tested version listed '
            'in requirements/mminstall.txt (or run `bash '
            'tools/env/setup_env.sh`).')


def check_environment() -> None:
    """Check the versions of mmcv, mmengine, mmpose and mmcv's compiled
    ops; a :class:`StackError` names the problem and the fix."""
    import mmcv
    import mmengine
    import mmpose
    _check_range('mmcv', mmcv.__version__, MMCV_RANGE)
    _check_range('mmengine', mmengine.__version__, MMENGINE_RANGE)
    _check_range('mmpose', mmpose.__version__, MMPOSE_RANGE)
    try:
        importlib.import_module('mmcv._ext')
    except ImportError as err:
        raise StackError(_FIX_OPS.format(err=err)) from err
