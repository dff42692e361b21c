from .env_check import check_environment
from .outputs import prepare_output_dir, prepare_output_file
from .validation import (check_box, check_flag, check_number, check_numbers,
                         check_optional_number, check_type)

__all__ = [
    'check_box', 'check_environment', 'check_flag', 'check_number',
    'check_numbers', 'check_optional_number', 'check_type',
    'prepare_output_dir', 'prepare_output_file'
]
