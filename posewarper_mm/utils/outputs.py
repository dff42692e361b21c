"""Output folders and files, checked before the work that fills them."""
import os
import os.path as osp
import tempfile

from ..errors import OutputLocationError


def prepare_output_dir(path: str, what: str = 'output folder') -> str:
    """Create the folder ``path`` (with parents), check that it is
    writable and return it; ``what`` names it in the message.

    Raises:
        OutputLocationError: If it cannot be created or written (e.g. a
            part of the path is a file).
    """
    if osp.exists(path) and not osp.isdir(path):
        raise OutputLocationError(f'{what} {path}: exists and is not a folder')
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise OutputLocationError(f'{what} {path}: cannot create the folder '
                                  f'({err.strerror or err})') from err
    try:
        handle, probe = tempfile.mkstemp(prefix='.write_test_', dir=path)
    except OSError as err:
        raise OutputLocationError(
            f'{what} {path}: not writable ({err.strerror or err})') from err
    os.close(handle)
    os.remove(probe)
    return path


def prepare_output_file(path: str, what: str = 'output file') -> str:
    """Create the folder of the file ``path``, check that the file can be
    written (without creating it) and return ``path``.

    Raises:
        OutputLocationError: If the file cannot be written there, or
            ``path`` is a folder.
    """
    if osp.isdir(path):
        raise OutputLocationError(f'{what} {path}: is a folder, not a file')
    folder = osp.dirname(osp.abspath(path))
    prepare_output_dir(folder, f'{what} {path}: folder')
    if osp.exists(path) and not os.access(path, os.W_OK):
        raise OutputLocationError(f'{what} {path}: not writable')
    return path
