"""Output folders and files, checked before the work that fills them."""
import os
import os.path as osp
import tempfile

from ..errors import OutputLocationError


def _probe_write(folder: str, what: str) -> None:
    try:
        handle, probe = tempfile.mkstemp(prefix='.write_test_', dir=folder)
    except OSError as err:
        raise OutputLocationError(
            f'{what} {folder}: not writable ({err.strerror or err})') from err
    os.close(handle)
    os.remove(probe)


def prepare_output_dir(path: str, what: str = 'output folder') -> str:
    """Create ``path`` (with parents) and check that it is writable.

    Call before any expensive work, so that results are not lost at the
    end of a run.

    Args:
        path (str): The folder.
        what (str): How the folder is named in the message (e.g. the
            command line option).

    Returns:
        str: ``path``.

    Raises:
        OutputLocationError: If it cannot be created or written, e.g. when
            a part of the path is an existing file.
    """
    if osp.exists(path) and not osp.isdir(path):
        raise OutputLocationError(f'{what} {path}: exists and is not a folder')
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as err:
        raise OutputLocationError(f'{what} {path}: cannot create the folder '
                                  f'({err.strerror or err})') from err
    _probe_write(path, what)
    return path


def prepare_output_file(path: str, what: str = 'output file') -> str:
    """Create the folder of the file ``path`` and check it can be written.

    The file itself is not created. An existing folder at ``path`` is an
    error.

    Args:
        path (str): The file.
        what (str): How the file is named in the message.

    Returns:
        str: ``path``.

    Raises:
        OutputLocationError: If the file cannot be written there.
    """
    if osp.isdir(path):
        raise OutputLocationError(f'{what} {path}: is a folder, not a file')
    folder = osp.dirname(osp.abspath(path))
    prepare_output_dir(folder, f'{what} {path}: folder')
    if osp.exists(path) and not os.access(path, os.W_OK):
        raise OutputLocationError(f'{what} {path}: not writable')
    return path
