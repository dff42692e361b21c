from .env_check import EnvironmentError_, check_environment

__all__ = ['EnvironmentError_', 'check_environment']
