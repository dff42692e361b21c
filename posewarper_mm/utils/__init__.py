from .env_check import check_environment
from .outputs import prepare_output_dir, prepare_output_file

__all__ = ['check_environment', 'prepare_output_dir', 'prepare_output_file']
