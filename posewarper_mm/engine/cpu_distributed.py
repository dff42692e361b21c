"""Data-parallel training and testing with ``--launcher pytorch`` on CPU.

mmengine's ``init_dist('pytorch')`` and ``Runner.wrap_model`` assume CUDA
(``torch.cuda.set_device``, ``device_ids=[LOCAL_RANK]``). Without CUDA,
:func:`setup_cpu_distributed` switches the config to gloo, creates the
process group from torchrun's variables (so the runner skips
``init_dist``) and gives the DDP wrapper ``device_ids=None``.
"""
import datetime
import logging
import os
import time
from typing import Optional

import torch
import torch.distributed as torch_dist
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

_REQUIRED_ENV = ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT')


def needs_cpu_distributed(launcher: Optional[str]) -> bool:
    """Whether ``launcher`` is ``'pytorch'`` and CUDA is not available."""
    return launcher == 'pytorch' and not torch.cuda.is_available()


def init_gloo_process_group(timeout_s: Optional[float] = None) -> None:
    """Create the default gloo process group from torchrun's variables
    (a RuntimeError names those missing)."""
    if torch_dist.is_initialized():
        return
    missing = [name for name in _REQUIRED_ENV if name not in os.environ]
    if missing:
        raise RuntimeError(
            '--launcher pytorch needs the environment variables '
            f'{", ".join(_REQUIRED_ENV)} set by torchrun, but '
            f'{", ".join(missing)} are missing. Start the job with '
            'tools/dist_train.sh or tools/dist_test.sh.')
    kwargs = dict(backend='gloo', init_method='env://',
                  rank=int(os.environ['RANK']),
                  world_size=int(os.environ['WORLD_SIZE']))
    if timeout_s is not None:
        kwargs['timeout'] = datetime.timedelta(seconds=timeout_s)
    torch_dist.init_process_group(**kwargs)


def setup_cpu_distributed(cfg: Config) -> bool:
    """Prepare the merged ``cfg`` (in place, before ``Runner.from_cfg``)
    for gloo data-parallel runs if :func:`needs_cpu_distributed`; return
    whether it did. The wrapper settings of the config are kept."""
    if not needs_cpu_distributed(cfg.get('launcher', 'none')):
        return False
    env_cfg = cfg.get('env_cfg', None) or ConfigDict()
    dist_cfg = ConfigDict(env_cfg.get('dist_cfg', None) or {})
    dist_cfg['backend'] = 'gloo'
    env_cfg['dist_cfg'] = dist_cfg
    cfg.env_cfg = env_cfg
    init_gloo_process_group(dist_cfg.get('timeout', None))
    wrapper = ConfigDict(cfg.get('model_wrapper_cfg', None) or {})
    # the defaults of Runner.wrap_model, and no device ids for CPU modules
    wrapper.setdefault('type', 'MMDistributedDataParallel')
    wrapper.setdefault('broadcast_buffers', False)
    wrapper.setdefault('find_unused_parameters',
                       cfg.get('find_unused_parameters', False))
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper
    return True


def teardown_distributed(succeeded: bool,
                         barrier_timeout_s: float = 60.0) -> None:
    """Destroy the default process group if this rank ``succeeded``.

    A live group at interpreter exit can abort a finished process. The
    ranks meet at a barrier first, for at most ``barrier_timeout_s``; both
    steps are timed in the log. After a failure, or if another rank never
    reaches the barrier, nothing is destroyed (that could wait on the
    missing rank): the process exits and the launcher ends the others.
    """
    if not succeeded or not torch_dist.is_available() or \
            not torch_dist.is_initialized():
        return
    backend = torch_dist.get_backend()
    start = time.perf_counter()
    try:
        torch_dist.barrier(async_op=True).wait(
            timeout=datetime.timedelta(seconds=barrier_timeout_s))
    except RuntimeError as err:
        print_log(
            f'process group ({backend}): the ranks did not meet within '
            f'{barrier_timeout_s:.0f} s ({str(err).splitlines()[0][:120]});'
            ' not destroyed', logger='current', level=logging.WARNING)
        return
    met = time.perf_counter()
    torch_dist.destroy_process_group()
    print_log(
        f'process group ({backend}) torn down: barrier '
        f'{met - start:.1f} s, destroy {time.perf_counter() - met:.1f} s',
        logger='current')
