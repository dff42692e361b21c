"""Hook that writes the metrics of a test run to a file."""
import os.path as osp
from typing import Dict, Optional

import mmengine
from mmengine.dist import master_only
from mmengine.hooks import Hook
from mmpose.registry import HOOKS


@HOOKS.register_module()
class SaveTestMetricsHook(Hook):
    """Dump the metrics returned by the test loop (``tools/test.py --out``).

    Args:
        out_file (str): Output path; the format follows the suffix
            (``.json``, ``.yaml``/``.yml`` or ``.pkl``), see
            :func:`mmengine.dump`.
    """

    priority = 'LOWEST'

    def __init__(self, out_file: str) -> None:
        if not out_file.endswith(('.json', '.yaml', '.yml', '.pkl',
                                  '.pickle')):
            raise ValueError(
                f'Metric output file {out_file!r} must end with .json, '
                '.yaml, .yml, .pkl or .pickle.')
        self.out_file = out_file

    @master_only
    def after_test_epoch(self,
                         runner,
                         metrics: Optional[Dict[str, float]] = None) -> None:
        """Write ``metrics`` to :attr:`out_file` on the main process.

        Args:
            runner (Runner): The runner of the test loop.
            metrics (dict, optional): Evaluation results keyed by metric
                name. Nothing is written when None.
        """
        if metrics is None:
            return
        mmengine.mkdir_or_exist(osp.dirname(osp.abspath(self.out_file)))
        mmengine.dump(dict(metrics), self.out_file)
