"""Checks of ``tools/test.py`` that must pass before any inference."""
from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmpose.registry import HOOKS

from ..errors import InputFileError
from ..utils.outputs import prepare_output_dir, prepare_output_file
from .checkpoint_check import check_weights_fit, read_checkpoint


@HOOKS.register_module()
class PreflightCheckHook(Hook):
    """Stop a test run early, with one line, instead of losing its work.

    ``before_run`` (before the checkpoint is loaded and any sample is
    processed) reads the checkpoint file, and creates the output folders
    and the folders of the output files and checks that they can be
    written. ``after_load_checkpoint`` (the checkpoint is loaded, not yet
    copied into the model) refuses a checkpoint that leaves model weights
    unloaded unless ``allow_partial``. Failures end the run with
    ``SystemExit`` and a one-line message naming the file and the problem.

    Args:
        checkpoint (str, optional): The checkpoint given to the tool.
        allow_partial (bool): Accept a checkpoint that leaves model weights
            unloaded.
        out_dirs (Sequence[tuple[str, str]]): ``(option, folder)`` pairs.
        out_files (Sequence[tuple[str, str]]): ``(option, file)`` pairs.
    """

    priority = 'VERY_HIGH'

    def __init__(
        self,
        checkpoint: Optional[str] = None,
        allow_partial: bool = False,
        out_dirs: Sequence = (),
        out_files: Sequence = ()
    ) -> None:
        self.checkpoint = checkpoint
        self.allow_partial = allow_partial
        self.out_dirs = [tuple(p) for p in out_dirs]
        self.out_files = [tuple(p) for p in out_files]

    def before_run(self, runner) -> None:
        """Check the checkpoint file and the output locations."""
        try:
            if self.checkpoint and '://' not in self.checkpoint:
                read_checkpoint(self.checkpoint)
            for option, path in self.out_dirs:
                prepare_output_dir(path, option)
            for option, path in self.out_files:
                prepare_output_file(path, option)
        except (InputFileError, OSError) as err:
            raise SystemExit(f'error: {err}') from err

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Refuse a checkpoint that does not fit ``runner.model``."""
        if self.allow_partial or not self.checkpoint:
            return
        try:
            check_weights_fit(runner.model, checkpoint, self.checkpoint)
        except InputFileError as err:
            raise SystemExit(f'error: {err}') from err
