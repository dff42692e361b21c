"""Config settings shared by ``tools/train.py`` and ``tools/test.py``."""
import os.path as osp
from typing import Optional

from mmengine.config import Config


def resolve_work_dir(cfg: Config, work_dir: Optional[str],
                     config_path: str) -> None:
    """Set ``cfg.work_dir``: command line > config > ``./work_dirs/<name>``.

    Args:
        cfg (Config): The config to update in place.
        work_dir (str, optional): ``--work-dir`` of the command line.
        config_path (str): Path of the config file (names the default).
    """
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(config_path))[0])
