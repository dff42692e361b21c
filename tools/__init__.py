"""Command-line tools of posewarper_mm (not installed with the package).

Scripts run as ``python tools/<name>.py``; :func:`load_tool` imports one
as a module (for the quickstart and the tests).
"""
import importlib.util
import os.path as osp
import re
import sys
from types import ModuleType

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_tool(path: str) -> ModuleType:
    """Import the script ``path`` (relative to the repository, e.g.
    ``'tools/train.py'``) once, as module ``tool__tools__train``.

    Its folder goes on ``sys.path``, as when the script runs, so that it
    finds its siblings; its command line does not run.
    """
    path = osp.abspath(osp.join(REPO_ROOT, path))
    relative = osp.splitext(osp.relpath(path, REPO_ROOT))[0]
    name = 'tool__' + '__'.join(
        re.sub(r'\W', '_', part) for part in relative.split(osp.sep))
    if name in sys.modules:
        return sys.modules[name]
    folder = osp.dirname(path)
    if folder not in sys.path:
        sys.path.append(folder)
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
