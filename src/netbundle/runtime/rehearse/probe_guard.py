"""netbundle rehearsal guard: this process may not use the network.

Written as the ``sitecustomize.py`` of every Python process of a ``guard``-isolated rehearsal (the installer reads
this file with ``pkgutil.get_data``): any socket connect or name lookup fails with ENETUNREACH, except on AF_UNIX
sockets. Importing this module applies the guard to the importing process: nothing in netbundle imports it.
"""

from __future__ import annotations

import errno
import socket
from typing import Any, NoReturn

_MESSAGE = "netbundle rehearsal: network access is disabled"


def _refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise OSError(errno.ENETUNREACH, _MESSAGE)


def _is_unix(sock: socket.socket) -> bool:
    return getattr(socket, "AF_UNIX", None) is not None and sock.family == socket.AF_UNIX


def _connect(self: socket.socket, *args: Any, **kwargs: Any) -> None:
    if _is_unix(self):
        return _original_connect(self, *args, **kwargs)
    raise OSError(errno.ENETUNREACH, _MESSAGE)


def _connect_ex(self: socket.socket, *args: Any, **kwargs: Any) -> int:
    if _is_unix(self):
        return _original_connect_ex(self, *args, **kwargs)
    return errno.ENETUNREACH


_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex
socket.socket.connect = _connect  # type: ignore[method-assign,assignment]
socket.socket.connect_ex = _connect_ex  # type: ignore[method-assign,assignment]
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
socket.gethostbyname = _refuse
socket.gethostbyname_ex = _refuse
