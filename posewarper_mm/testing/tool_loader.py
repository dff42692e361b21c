"""Load a script of the repository (``tools/``, ``demo/``) as a module."""
import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Union

REPO_ROOT = Path(__file__).resolve().parents[2]


def load_tool(path: Union[str, Path]) -> ModuleType:
    """Import a script by its file path, once per process.

    The module is named after the path (``tools/analysis/x.py`` becomes
    ``tool__tools__analysis__x``), so scripts with the same file
    name in different folders, or with the name of another module (e.g.
    ``tools/test.py``), do not collide. A second call returns the same
    module. Sibling modules a script imports (``tools/launch_utils.py``,
    ``tools/analysis/posewarper_bench_utils.py``) must be importable: the
    tests put ``tools/`` and ``tools/analysis/`` on ``sys.path`` through
    the ``pythonpath`` option of ``setup.cfg``.

    Args:
        path (str | Path): The script, relative to the repository root
            (e.g. ``'tools/train.py'``) or absolute (a script outside the
            repository is named after its whole path).

    Returns:
        ModuleType: The executed module (``__name__`` is not
        ``'__main__'``, so its command line does not run).
    """
    path = Path(path)
    if not path.is_absolute():
        path = REPO_ROOT / path
    path = path.resolve()
    base = REPO_ROOT if path.is_relative_to(REPO_ROOT) else path.anchor
    relative = path.relative_to(base).with_suffix('')
    name = 'tool__' + '__'.join(
        re.sub(r'\W', '_', part) for part in relative.parts)
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, str(path))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module
