"""Writing a file the user named without ever replacing a special file (I/O: the file system).

A temp file and a rename make a write atomic, but a rename replaces whatever the name pointed at:
``--out /dev/null`` run as root turned the system's ``/dev/null`` into a regular file, and a
symlink, a FIFO or ``/dev/stdout`` were replaced the same way. ``write_text_safely`` renames only
onto a regular file or a new path, follows a symlink to its target, and writes anything else in
place.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from pathlib import Path

__all__ = ["write_text_safely"]


def write_text_safely(path: Path, text: str, *, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path``.

    - a regular file or a new path: atomically (a temp file beside it, then a rename), keeping an
      existing file's permission bits; readers see the old or the new content, never half;
    - a symlink: the same, applied to its target (the link stays a link);
    - anything else (character or block device such as ``/dev/null``, FIFO, ``/dev/stdout``,
      socket): opened and written in place, as a shell redirect would.

    ``OSError`` propagates; the caller words it for the user.
    """
    try:
        st: os.stat_result | None = os.stat(path)  # follows symlinks: the target's kind decides
    except FileNotFoundError:
        st = None
    if st is not None and not stat.S_ISREG(st.st_mode):
        with open(path, "w", encoding=encoding) as handle:
            handle.write(text)
        return
    target = Path(os.path.realpath(path))  # a symlink (even a dangling one) is written through
    mode = stat.S_IMODE(st.st_mode) if st is not None else None
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else mode)
    except PermissionError:
        # A writable file in a directory we may not create files in: in place is the only way.
        with open(target, "w", encoding=encoding) as handle:
            handle.write(text)
        return
    try:
        with os.fdopen(fd, "w", encoding=encoding) as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(tmp, mode)  # the umask applied to O_CREAT; an existing file keeps its bits
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
