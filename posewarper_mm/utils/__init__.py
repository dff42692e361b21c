from .env_check import EnvironmentError_, check_environment
from .validation import (InputFileError, OutputLocationError, check_box,
                         check_flag, check_number, check_numbers,
                         check_optional_number, check_type, prepare_output_dir,
                         prepare_output_file)

__all__ = [
    'EnvironmentError_', 'InputFileError', 'OutputLocationError',
    'check_box', 'check_environment', 'check_flag', 'check_number',
    'check_numbers', 'check_optional_number', 'check_type',
    'prepare_output_dir', 'prepare_output_file'
]
