"""Multi-process data-parallel training and testing on CPU-only machines.

mmengine 0.10.7 assumes a GPU for ``--launcher pytorch``:
``mmengine.dist.init_dist('pytorch')`` calls ``torch.cuda.set_device`` before
``init_process_group`` and :meth:`mmengine.runner.Runner.wrap_model` wraps the
model with ``device_ids=[LOCAL_RANK]``. Both fail without CUDA.

:func:`setup_cpu_distributed` prepares a config for that case only (launcher
``pytorch`` and no CUDA device); the GPU path is left untouched:

1. ``env_cfg.dist_cfg.backend`` becomes ``'gloo'``;
2. the default process group is created here with the gloo backend from the
   ``RANK``/``WORLD_SIZE``/``MASTER_ADDR``/``MASTER_PORT`` variables that
   ``torchrun`` exports, so the runner finds it initialised and skips
   ``init_dist`` (and its CUDA call);
3. ``model_wrapper_cfg`` gets ``device_ids=None``, which is what
   :class:`torch.nn.parallel.DistributedDataParallel` expects for a module
   on CPU. Settings the config already has (e.g. ``find_unused_parameters``)
   are kept.
"""
import datetime
import os
import time
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

_REQUIRED_ENV = ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')


def needs_cpu_distributed(launcher: Optional[str]) -> bool:
    """Whether a run with ``launcher`` must use the CPU (gloo) path.

    Args:
        launcher (str, optional): The job launcher (``'none'``,
            ``'pytorch'``, ``'slurm'`` or ``'mpi'``).

    Returns:
        bool: True for ``'pytorch'`` when CUDA is not available.
    """
    return launcher == 'pytorch' and not torch.cuda.is_available()


def _cpu_model_wrapper_cfg(cfg: Config) -> ConfigDict:
    """Model wrapper settings for DDP on CPU, keeping the config's own."""
    wrapper = cfg.get('model_wrapper_cfg', None)
    wrapper = ConfigDict() if wrapper is None else ConfigDict(wrapper)
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    # Same defaults as Runner.wrap_model uses without a wrapper config.
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters',
                       cfg.get('find_unused_parameters', False))
    # A CPU module takes no device ids; given here, the runner's default
    # ``device_ids=[LOCAL_RANK]`` is not applied.
    wrapper['device_ids'] = None
    return wrapper


def init_gloo_process_group(timeout_s: Optional[float] = None) -> None:
    """Create the default gloo process group from torchrun's variables.

    Args:
        timeout_s (float, optional): Collective timeout in seconds. Defaults
            to torch's default.

    Raises:
        RuntimeError: If a variable set by the launcher is missing.
    """
    if torch_dist.is_initialized():
        return
    missing = [name for name in _REQUIRED_ENV if name not in os.environ]
    if missing:
        raise RuntimeError(
            '--launcher pytorch needs the environment variables '
            f'{", ".join(_REQUIRED_ENV)} set by torchrun, but '
            f'{", ".join(missing)} are missing. Start the job with '
            'tools/dist_train.sh or tools/dist_test.sh.')
    kwargs = dict(
        backend='gloo',
        init_method='env://',
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']))
    if timeout_s is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=timeout_s)
    torch_dist.init_process_group(**kwargs)


def setup_cpu_distributed(cfg: Config) -> bool:
    """Prepare ``cfg`` for gloo data-parallel runs when CUDA is missing.

    Call it after the launcher is merged into the config and before
    ``Runner.from_cfg(cfg)``. It changes nothing unless
    ``cfg.launcher == 'pytorch'`` and CUDA is unavailable.

    Args:
        cfg (Config): The merged config; updated in place.

    Returns:
        bool: Whether the CPU path was set up.
    """
    if not needs_cpu_distributed(cfg.get('launcher', 'none')):
        return False
    env_cfg = cfg.get('env_cfg', None)
    env_cfg = ConfigDict() if env_cfg is None else env_cfg
    dist_cfg = ConfigDict(env_cfg.get('dist_cfg', None) or {})
    dist_cfg['backend'] = 'gloo'
    env_cfg['dist_cfg'] = dist_cfg
    cfg.env_cfg = env_cfg
    init_gloo_process_group(dist_cfg.get('timeout', None))
    cfg.model_wrapper_cfg = _cpu_model_wrapper_cfg(cfg)
    return True


def teardown_distributed(succeeded: bool) -> None:
    """Destroy the default process group at the end of a tool's run.

    A process that reaches interpreter exit with a live process group can
    abort in the group's thread destructors (``terminate called without an
    active exception``, SIGABRT), so a run that finished its work is reported
    as failed by the launcher. After a successful run every rank meets at a
    barrier, so that none tears down while another still communicates, and
    the group is destroyed. After a failure nothing is torn down: the other
    ranks may never reach a barrier, and the launcher ends them and reports
    the failed rank's error.

    The two calls are timed and logged: on one H200 with NCCL, a
    one-process training run ended about 50 s after its last checkpoint,
    and these calls may account for that.

    Args:
        succeeded (bool): Whether this rank finished its work.
    """
    if not succeeded:
        return
    if not torch_dist.is_available() or not torch_dist.is_initialized():
        return
    backend = torch_dist.get_backend()
    start = time.perf_counter()
    torch_dist.barrier()
    met = time.perf_counter()
    torch_dist.destroy_process_group()
    print_log(
        f'process group ({backend}) torn down: barrier '
        f'{met - start:.1f} s, destroy {time.perf_counter() - met:.1f} s',
        logger='current')
