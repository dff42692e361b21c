"""Output folders and files, checked before the work that fills them."""
import os
import os.path as osp
import tempfile
from typing import Dict, List

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


def _fsync(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_atomically(tmp_path: str, path: str) -> None:
    """Flush the complete file ``tmp_path`` to disk, rename it to ``path``
    (in the same folder) and flush the folder: ``path`` then holds its old
    content or the whole new file, also after a crash."""
    _fsync(tmp_path)
    os.replace(tmp_path, path)
    _fsync(osp.dirname(osp.abspath(path)))


def pending_path(path: str) -> str:
    """The temporary name of ``path`` while it is written: a hidden file
    in its folder, with its extension (``out/.clip.tmp-<pid>.mp4``)."""
    folder, name = osp.split(path)
    stem, ext = osp.splitext(name)
    return osp.join(folder, f'.{stem}.tmp-{os.getpid()}{ext}')


def write_file_atomically(path: str, text: str) -> str:
    """Write ``text`` (UTF-8) to ``path`` under its pending name and rename
    it (:func:`replace_atomically`): ``path`` is complete or untouched,
    also when the writing fails or is interrupted. Returns ``path``."""
    tmp = pending_path(path)
    try:
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(text)
        replace_atomically(tmp, path)
    except BaseException:
        if osp.isfile(tmp):
            os.remove(tmp)
        raise
    return path


class PendingOutputs:
    """Output files written under a temporary name and renamed when the
    work is complete, so that an interrupted run leaves no file that looks
    finished.

    :meth:`add` gives the temporary name to write; :meth:`commit` renames
    them all (flushed, :func:`replace_atomically`);
    :meth:`discard` removes them.
    """

    def __init__(self) -> None:
        self.paths: Dict[str, str] = {}

    def add(self, path: str) -> str:
        """Register the final ``path``; returns the name to write."""
        self.paths[path] = pending_path(path)
        return self.paths[path]

    def commit(self) -> List[str]:
        """Rename every written file to its final name; returns those."""
        done: List[str] = []
        for path, tmp in self.paths.items():
            if osp.isfile(tmp):
                replace_atomically(tmp, path)
                done.append(path)
        self.paths = {}
        return done

    def discard(self) -> None:
        """Remove the temporary files."""
        for tmp in self.paths.values():
            if osp.isfile(tmp):
                os.remove(tmp)
        self.paths = {}


def raise_on_sigterm() -> None:
    """Make SIGTERM raise ``SystemExit(143)`` in the main thread, so that a
    terminated tool runs its clean-up (removes its pending outputs) as for
    Ctrl-C."""
    import signal

    def _exit(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _exit)
