"""The node's exceptions: one root, :class:`IdfuseNodeError`, and a subtree per concern.

Each exception's docstring says when it is raised and how to fix what caused it. Catch
:class:`IdfuseNodeError` to handle every failure the node reports on purpose.
"""


class IdfuseNodeError(Exception):
    """Root of every exception the idfuse node raises deliberately."""


class StorageError(IdfuseNodeError):
    """The node's on-disk storage could not be opened, read or written.

    Raised only through one of the subclasses below, which say what went wrong; catch this
    class to handle every storage failure at once.
    """


class StorageLockedError(StorageError):
    """Another process (or another handle in this process) holds the database's lock.

    Raised when opening a LevelDB directory whose ``LOCK`` file is held: LevelDB allows a
    single writer. Fix: stop the other node using the same data directory, or give this
    one its own ``--data-dir``.
    """


class StorageCorruptError(StorageError):
    """The data directory is damaged, or is not a database this node wrote.

    Raised when LevelDB reports corruption, and when the path exists but is not a LevelDB
    directory (a file, or a non-empty directory without a ``CURRENT`` file); the node
    refuses rather than create an empty database over someone else's files. Fix: point
    the node at the right directory, or restore the directory from a backup.
    """


class StorageUnavailableError(StorageError):
    """The storage cannot be used: permission denied, missing parent, full or failing disk,
    or the handle has been closed.

    Raised when opening, reading or writing fails for a reason outside the database's
    content. Fix: check that the data directory's parent exists, that the node's user may
    read and write it, and that the disk has room; do not use a handle after ``close()``.
    """
