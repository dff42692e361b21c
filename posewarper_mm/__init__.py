"""PoseWarper video pose estimation as an mmpose 1.x plugin.

Importing this package registers its datasets, transforms, models and
metrics into mmpose's registries, so a config only needs::

    custom_imports = dict(imports=['posewarper_mm'],
                          allow_failed_imports=False)
"""
from .utils import check_environment
from .version import __version__

check_environment()

from . import datasets, engine, evaluation, models  # noqa: E402,F401

__all__ = ['__version__', 'check_environment']
