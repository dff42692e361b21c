"""Test (and evaluate) a pose model of ``posewarper_mm``.

Examples::

    python tools/test.py CONFIG CHECKPOINT [--out metrics.json]
    bash tools/dist_test.sh CONFIG CHECKPOINT N [--dump preds.pkl]

Evaluation box protocol: a PoseTrack test set is evaluated either on
ground-truth person boxes or on detected boxes. The config chooses with
``test_dataloader.dataset.bbox_file`` (None = ground-truth boxes); the
command line can override it:

* ``--gt-bboxes``: use the annotated boxes (sets ``bbox_file=None``);
* ``--det-bboxes FILE``: use the detections in FILE (a COCO-style result
  json with ``image_id``, ``bbox`` xywh, ``score``, ``category_id``).

Official-format prediction files: ``--pred-dir DIR`` sets the evaluator's
``outfile_prefix``; ``PoseTrackAPMetric`` then keeps one PoseTrack18 json per
video in DIR (readable by ``tools/eval_posetrack.py`` and the evaluation
server).

Arguments are merged in this order: launcher, checkpoint, ``--work-dir``,
visualisation flags, ``--pred-dir``, box protocol, ``--cfg-options``, then
``--dump`` (it turns ``test_evaluator`` into a list, which ``--cfg-options``
could no longer address).

Before any inference (``before_run``), the checkpoint is read (an empty or
non-checkpoint file is a one-line error) and the output locations
(``--work-dir``, ``--pred-dir``, ``--out``, ``--dump``) are created and
checked for writability. A checkpoint that leaves model weights unloaded
(beyond BatchNorm's ``num_batches_tracked``) stops the run unless
``--allow-partial-checkpoint`` is given.
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
# in mmpose's registries
import launch_utils  # noqa: E402

from posewarper_mm import engine  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    """Parse the command line of ``tools/test.py``."""
    parser = argparse.ArgumentParser(
        description='Test (and evaluate) a pose model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir', help='the directory to save logs and evaluation files')
    parser.add_argument(
        '--out', help='write the metrics to this .json/.yaml/.pkl file')
    parser.add_argument(
        '--dump',
        type=str,
        help='dump the predictions to a .pkl file for offline evaluation')
    parser.add_argument(
        '--pred-dir',
        help='write the prediction files of the evaluator here (sets '
        'test_evaluator.outfile_prefix; PoseTrackAPMetric writes one '
        'official-format json per video into this folder)')
    boxes = parser.add_mutually_exclusive_group()
    boxes.add_argument(
        '--gt-bboxes',
        action='store_true',
        help='evaluate on ground-truth person boxes '
        '(test_dataloader.dataset.bbox_file=None)')
    boxes.add_argument(
        '--det-bboxes',
        metavar='FILE',
        help='evaluate on the person detections in FILE '
        '(test_dataloader.dataset.bbox_file=FILE)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, xxx=yyy pairs merged last, e.g. '
        'test_dataloader.batch_size=8')
    launch_utils.add_visualization_args(parser, 'predictions')
    parser.add_argument(
        engine.ALLOW_PARTIAL_FLAG,
        action='store_true',
        help='run even if the checkpoint leaves model weights unloaded '
        '(by default that is an error: another architecture or stage)')
    return launch_utils.parse_launcher_args(parser, argv)


def set_bbox_protocol(cfg: Config, args: argparse.Namespace) -> None:
    """Apply ``--gt-bboxes`` / ``--det-bboxes`` to the test dataset.

    Args:
        cfg (Config): The config; updated in place.
        args (argparse.Namespace): The parsed arguments.

    Raises:
        FileNotFoundError: If the ``--det-bboxes`` file does not exist.
    """
    if not args.gt_bboxes and args.det_bboxes is None:
        return
    if args.det_bboxes is not None and not osp.isfile(args.det_bboxes):
        raise FileNotFoundError(
            f'--det-bboxes: detection file {args.det_bboxes!r} not found')
    dataset = cfg.test_dataloader.dataset
    # Wrapped datasets (e.g. RepeatDataset) keep the real one in .dataset.
    while 'bbox_file' not in dataset and 'dataset' in dataset:
        dataset = dataset.dataset
    dataset.bbox_file = None if args.gt_bboxes else args.det_bboxes


def add_preflight_checks(cfg: Config, args: argparse.Namespace) -> None:
    """Add the hook that checks files before any inference.

    :class:`posewarper_mm.engine.PreflightCheckHook` reads the checkpoint
    (an empty or non-checkpoint file is a one-line error), creates
    ``--work-dir``, ``--pred-dir`` and the folders of ``--out`` and
    ``--dump`` and checks they are writable, and, unless
    ``--allow-partial-checkpoint``, refuses a checkpoint that leaves model
    weights unloaded.

    Args:
        cfg (Config): The config; ``custom_hooks`` is extended in place.
        args (argparse.Namespace): The parsed arguments.
    """
    out_dirs = [('--work-dir', cfg.work_dir)]
    if args.pred_dir:
        out_dirs.append(('--pred-dir', args.pred_dir))
    out_files = [(option, path) for option, path in (('--out', args.out),
                                                     ('--dump', args.dump))
                 if path]
    hooks = list(cfg.get('custom_hooks', None) or [])
    hooks.append(
        ConfigDict(
            type='PreflightCheckHook',
            checkpoint=args.checkpoint,
            allow_partial=args.allow_partial_checkpoint,
            out_dirs=out_dirs,
            out_files=out_files))
    cfg.custom_hooks = hooks


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Merge the command line arguments into the config.

    Args:
        cfg (Config): The config loaded from ``args.config``.
        args (argparse.Namespace): The parsed arguments.

    Returns:
        Config: The updated config (the same object).
    """
    cfg.launcher = args.launcher
    cfg.load_from = args.checkpoint

    launch_utils.resolve_work_dir(cfg, args.work_dir, args.config)

    if args.show or args.show_dir is not None:
        launch_utils.enable_visualization(cfg, args)

    if args.pred_dir is not None:
        evaluators = cfg.test_evaluator
        if not isinstance(evaluators, (list, tuple)):
            evaluators = [evaluators]
        for evaluator in evaluators:
            evaluator.outfile_prefix = args.pred_dir

    set_bbox_protocol(cfg, args)

    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)

    # after --cfg-options, which cannot address a list of evaluators
    if args.dump is not None:
        if not args.dump.endswith(('.pkl', '.pickle')):
            raise ValueError(
                f'--dump {args.dump!r}: the file must end with .pkl')
        dump = ConfigDict(type='DumpResults', out_file_path=args.dump)
        evaluator = cfg.test_evaluator
        if isinstance(evaluator, (list, tuple)):
            cfg.test_evaluator = [*evaluator, dump]
        else:
            cfg.test_evaluator = [evaluator, dump]

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
