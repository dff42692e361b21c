from .env_check import check_environment
from .outputs import (PendingOutputs, pending_path, prepare_output_dir,
                      prepare_output_file, raise_on_sigterm,
                      replace_atomically, write_file_atomically)

__all__ = [
    'PendingOutputs', 'check_environment', 'pending_path',
    'prepare_output_dir', 'prepare_output_file', 'raise_on_sigterm',
    'replace_atomically', 'write_file_atomically'
]
