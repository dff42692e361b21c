"""Test (and evaluate) a pose model of ``posewarper_mm``.

Examples::

    python tools/test.py CONFIG CHECKPOINT [--out metrics.json]
    bash tools/dist_test.sh CONFIG CHECKPOINT N [--dump preds.pkl]

The person boxes are the config's (``test_dataloader.dataset.bbox_file``,
None for ground truth) unless ``--gt-bboxes`` or ``--det-bboxes FILE`` (a
COCO-style result json) is given. ``--pred-dir DIR`` sets the evaluator's
``outfile_prefix``: ``PoseTrackAPMetric`` writes one official PoseTrack18
json per video there (for ``tools/eval_posetrack.py``).

Arguments are merged in this order: launcher, checkpoint, ``--work-dir``,
visualisation, ``--pred-dir``, boxes, ``--cfg-options``, then ``--dump``
(it makes ``test_evaluator`` a list). Before any inference the checkpoint
is read and the output locations are checked (``PreflightCheckHook``); a
checkpoint that leaves model weights unloaded is refused unless
``--allow-partial-checkpoint``.
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config, ConfigDict, DictAction
from torch.distributed.elastic.multiprocessing.errors import record

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

# a sibling module; it imports posewarper_mm, which registers its modules
import launch_utils  # noqa: E402

from posewarper_mm import engine  # noqa: E402
from posewarper_mm.errors import ConfigError  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a pose model')
    add = parser.add_argument
    add('config', help='test config file path')
    add('checkpoint', help='checkpoint file')
    add('--work-dir', help='the directory to save logs and evaluation files')
    add('--out', help='write the metrics to this .json/.yaml/.pkl file')
    add('--dump', type=str,
        help='dump the predictions to a .pkl file for offline evaluation')
    add('--pred-dir', help='write the prediction files of the evaluator here '
        '(sets test_evaluator.outfile_prefix; PoseTrackAPMetric writes one '
        'official-format json per video into this folder)')
    boxes = parser.add_mutually_exclusive_group()
    boxes.add_argument('--gt-bboxes', action='store_true',
                       help='evaluate on ground-truth person boxes '
                       '(test_dataloader.dataset.bbox_file=None)')
    boxes.add_argument('--det-bboxes', metavar='FILE',
                       help='evaluate on the person detections in FILE '
                       '(test_dataloader.dataset.bbox_file=FILE)')
    add('--cfg-options', nargs='+', action=DictAction,
        help='override config settings, xxx=yyy pairs merged last, e.g. '
        'test_dataloader.batch_size=8')
    launch_utils.add_visualization_args(parser, 'predictions')
    add(engine.ALLOW_PARTIAL_FLAG, action='store_true',
        help='run even if the checkpoint leaves model weights unloaded '
        '(by default that is an error: another architecture or stage)')
    return launch_utils.parse_launcher_args(parser, argv)


def set_bbox_protocol(cfg: Config, args: argparse.Namespace) -> None:
    """Apply ``--gt-bboxes`` / ``--det-bboxes`` to the test dataset (a
    FileNotFoundError if the detection file is missing)."""
    if not args.gt_bboxes and args.det_bboxes is None:
        return
    if args.det_bboxes is not None and not osp.isfile(args.det_bboxes):
        raise FileNotFoundError(
            f'--det-bboxes: detection file {args.det_bboxes!r} not found')
    dataset = cfg.test_dataloader.dataset
    # wrapped datasets (e.g. RepeatDataset) keep the real one in .dataset
    while 'bbox_file' not in dataset and 'dataset' in dataset:
        dataset = dataset.dataset
    dataset.bbox_file = None if args.gt_bboxes else args.det_bboxes


def add_preflight_checks(cfg: Config, args: argparse.Namespace) -> None:
    """Append a ``PreflightCheckHook`` for the checkpoint and the output
    locations (``--work-dir``, ``--pred-dir``, ``--out``, ``--dump``)."""
    out_dirs = [('--work-dir', cfg.work_dir)]
    if args.pred_dir:
        out_dirs.append(('--pred-dir', args.pred_dir))
    out_files = [(option, path) for option, path in (('--out', args.out),
                                                     ('--dump', args.dump))
                 if path]
    cfg.custom_hooks = list(cfg.get('custom_hooks', None) or []) + [
        ConfigDict(type='PreflightCheckHook', checkpoint=args.checkpoint,
                   allow_partial=args.allow_partial_checkpoint,
                   out_dirs=out_dirs, out_files=out_files)]


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Merge the parsed arguments into ``cfg`` (updated and returned)."""
    cfg.launcher = args.launcher
    cfg.load_from = args.checkpoint
    launch_utils.resolve_work_dir(cfg, args.work_dir, args.config)
    if args.show or args.show_dir is not None:
        launch_utils.enable_visualization(cfg, args)
    if args.pred_dir is not None:
        evaluators = cfg.test_evaluator
        for evaluator in evaluators if isinstance(
                evaluators, (list, tuple)) else [evaluators]:
            evaluator.outfile_prefix = args.pred_dir
    set_bbox_protocol(cfg, args)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    # after --cfg-options, which cannot address a list of evaluators
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ConfigError(
                f'--dump {args.dump!r}: the file must end with .pkl')
        evaluator = cfg.test_evaluator
        evaluators = list(evaluator) if isinstance(
            evaluator, (list, tuple)) else [evaluator]
        cfg.test_evaluator = evaluators + [
            ConfigDict(type='DumpResults', out_file_path=args.dump)]
    add_preflight_checks(cfg, args)
    return cfg


@record
def main(argv=None) -> None:
    """Test; see :func:`launch_utils.run_runner` for errors and exit."""
    args = parse_args(argv)

    def run(runner) -> None:
        if args.out:
            runner.register_hook(
                engine.SaveTestMetricsHook(args.out), 'LOWEST')
        runner.test()

    launch_utils.run_runner(
        'test.py', lambda: merge_args(Config.fromfile(args.config), args), run)


if __name__ == '__main__':
    main()
