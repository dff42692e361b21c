"""Train a pose model of ``posewarper_mm`` with mmengine's Runner.

Examples::

    python tools/train.py CONFIG [--work-dir DIR] [--amp] [--resume [CKPT]]
    bash tools/dist_train.sh CONFIG N [--auto-scale-lr] [--cfg-options ...]

Arguments are merged in this order: launcher, ``--work-dir``, ``--amp``,
``--auto-scale-lr``, visualisation, ``--tensorboard``, ``--cfg-options``,
``--no-validate`` (so that options for the validation set still merge),
then ``--resume`` (see ``tools/launch_utils.py``). ``--amp`` needs a GPU;
``--tensorboard`` needs the ``tensorboard`` package. Without CUDA the run
is on CPU, and ``tools/dist_train.sh`` processes use gloo.
"""
import argparse
import os.path as osp
import sys

from mmengine.config import Config, ConfigDict, DictAction
from mmengine.device import get_device
from torch.distributed.elastic.multiprocessing.errors import record

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)

# a sibling module; it imports posewarper_mm, which registers its modules
import launch_utils  # noqa: E402

from posewarper_mm.errors import ConfigError  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a pose model')
    add = parser.add_argument
    add('config', help='train config file path')
    add('--work-dir', help='the dir to save logs and models')
    add('--resume', nargs='?', type=str, const='auto',
        help='resume from this checkpoint; without a path, resume from the '
        'latest checkpoint in the work directory (or, if there is none, '
        'start from the config\'s load_from)')
    add('--amp', action='store_true', default=False,
        help='automatic mixed precision training (needs a GPU)')
    add('--no-validate', action='store_true',
        help='do not evaluate checkpoints during training')
    add('--auto-scale-lr', action='store_true',
        help='scale the learning rate by the actual total batch size '
        'over auto_scale_lr.base_batch_size of the config')
    launch_utils.add_visualization_args(parser, 'validation predictions')
    add('--tensorboard', action='store_true', help='also log scalars to '
        'TensorBoard (needs the `tensorboard` package)')
    add('--cfg-options', nargs='+', action=DictAction,
        help='override config settings, xxx=yyy pairs merged last, e.g. '
        'train_dataloader.batch_size=8 or key="[(a,b),(c,d)]" (quotes '
        'needed, no white space)')
    return launch_utils.parse_launcher_args(parser, argv)


def _add_tensorboard(cfg: Config) -> None:
    """Append a TensorBoard backend to the visualizer."""
    try:
        import tensorboard  # noqa: F401
    except ImportError as err:
        raise ImportError('--tensorboard needs the `tensorboard` package: '
                          'pip install tensorboard') from err
    if cfg.get('visualizer', None) is None:
        cfg.visualizer = ConfigDict(
            type='PoseLocalVisualizer', name='visualizer')
    backends = list(cfg.visualizer.get('vis_backends', None) or [])
    if not any('Tensorboard' in str(b.get('type', '')) for b in backends):
        backends.append(ConfigDict(type='TensorboardVisBackend'))
    cfg.visualizer.vis_backends = backends


def merge_args(cfg: Config, args: argparse.Namespace) -> Config:
    """Merge the parsed arguments into ``cfg`` (updated and returned)."""
    cfg.launcher = args.launcher
    launch_utils.resolve_work_dir(cfg, args.work_dir, args.config)
    if args.amp:
        optim_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_type not in ('OptimWrapper', 'AmpOptimWrapper'):
            raise ConfigError(
                f'{args.config}: --amp supports optim_wrapper types '
                f'OptimWrapper and AmpOptimWrapper, not {optim_type!r}')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.auto_scale_lr:
        if cfg.get('auto_scale_lr', None) is None:
            raise ConfigError(
                f'{args.config}: --auto-scale-lr needs '
                'auto_scale_lr = dict(base_batch_size=...) in the config')
        cfg.auto_scale_lr.enable = True
    if args.show or args.show_dir is not None:
        launch_utils.enable_visualization(cfg, args)
    if args.tensorboard:
        _add_tensorboard(cfg)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.no_validate:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    launch_utils.use_atomic_checkpoints(cfg)
    # last: a --cfg-options load_from never replaces the work dir's checkpoint
    launch_utils.resolve_resume(cfg, args.resume)
    return cfg


def load_config(args: argparse.Namespace) -> Config:
    """The config of ``args.config`` with the arguments merged; exits if
    it asks for mixed precision on a machine without a GPU."""
    cfg = merge_args(Config.fromfile(args.config), args)
    if cfg.optim_wrapper.get('type') == 'AmpOptimWrapper' and \
            get_device() == 'cpu':
        raise SystemExit('AmpOptimWrapper (--amp) needs a GPU: mmengine '
                         'supports mixed precision training on '
                         'cuda/npu/mlu/musa devices only.')
    return cfg


@record
def main(argv=None) -> None:
    """Train; see :func:`launch_utils.run_runner` for errors and exit."""
    args = parse_args(argv)
    launch_utils.run_runner(
        'train.py',
        lambda: launch_utils.check_start_checkpoint(load_config(args)),
        lambda runner: runner.train())


if __name__ == '__main__':
    main()
