"""The exceptions of posewarper_mm.

Tools print the one-line message of :class:`InputFileError`,
:class:`OutputLocationError` and :class:`ConfigError`, not a traceback
(:func:`run_command`).
"""
import sys
from typing import Callable, Tuple, Type


class InputFileError(ValueError):
    """A user file (json, video, frame, checkpoint) is unreadable or holds
    a bad value; the message names the file, the record and the field."""


class OutputLocationError(OSError):
    """An output file or folder cannot be created or written."""


class ConfigError(ValueError, AssertionError):
    """A module or dataset argument of a config is invalid (also an
    ``AssertionError``, as raised by mmpose's ``PoseWarperNeck``)."""


class StackError(ImportError):
    """The installed OpenMMLab stack cannot run this package."""


class MissingFrameWarning(UserWarning):
    """A supporting frame is not on disk and the key frame is used."""


# what a command-line tool prints as one line instead of a traceback
USER_ERRORS = (FileNotFoundError, InputFileError, OutputLocationError,
               ConfigError)


def run_command(prog: str, main: Callable[[], object],
                errors: Tuple[Type[BaseException], ...] = USER_ERRORS) -> int:
    """Run a tool's ``main()``; one of ``errors`` is printed as one line
    ``<prog>: error: <message>`` on stderr.

    Returns:
        int: The exit status: 0, or 1 after an error was printed.
    """
    try:
        main()
    except errors as error:
        print(f'{prog}: error: {error}', file=sys.stderr)
        return 1
    return 0
