"""Exceptions that carry a message a user can act on.

Every error raised on purpose by ftlib derives from :class:`FtlibError`, so a
notebook or a script can show the message without a deep traceback.
"""


class FtlibError(Exception):
    """Base class: the message says what went wrong and what to do."""


class ParameterError(FtlibError, ValueError):
    """A notebook / papermill parameter is unknown, of the wrong type or out of range."""


class DatasetNotFoundError(FtlibError, FileNotFoundError):
    """A dataset is not in any of the places ftlib looks; the message lists them."""


class DatasetCorruptError(FtlibError):
    """A dataset file exists but its content does not match the known checksum."""


class CacheCorruptError(FtlibError):
    """A cache entry cannot be read or does not match its configuration."""


class CacheReadOnlyError(FtlibError):
    """The cache directory cannot be written and lacks an entry that would have to be computed."""


class ArchiveError(FtlibError):
    """A section cannot be archived (smoke profile, failed or partial run) or an archived file is unreadable."""
