"""The exceptions of posewarper_mm.

Tools print the one-line message of :class:`InputFileError`,
:class:`OutputLocationError` and :class:`ConfigError`, not a traceback.
"""


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
