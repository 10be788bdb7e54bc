"""The two pieces of Python source the rehearsal runs in other processes (kept as text: they run in the venv's
Python or as its ``sitecustomize``, never in the installer's own process).

- :data:`GUARD_SOURCE`: the ``sitecustomize.py`` of ``guard`` isolation;
- :data:`IMPORT_PROBE`: imports every top-level module of every distribution in the site dirs given as
  arguments and prints one line, :data:`IMPORTS_MARKER` then JSON rows ``[distribution, module, status, error]``
  with status ``ok``, ``error`` or ``optional`` (a plugin module for a tool that is not installed).
"""

IMPORTS_MARKER = "NETBUNDLE-IMPORTS "

#: The sitecustomize of ``guard`` mode: any socket connect or name lookup fails, except on AF_UNIX sockets.
GUARD_SOURCE = '''\
"""netbundle rehearsal guard: this process may not use the network."""
import errno
import socket

_MESSAGE = "netbundle rehearsal: network access is disabled"


def _refuse(*args, **kwargs):
    raise OSError(errno.ENETUNREACH, _MESSAGE)


def _connect(self, *args, **kwargs):
    if getattr(socket, "AF_UNIX", None) is not None and self.family == socket.AF_UNIX:
        return _original_connect(self, *args, **kwargs)
    raise OSError(errno.ENETUNREACH, _MESSAGE)


def _connect_ex(self, *args, **kwargs):
    if getattr(socket, "AF_UNIX", None) is not None and self.family == socket.AF_UNIX:
        return _original_connect_ex(self, *args, **kwargs)
    return errno.ENETUNREACH


_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex
socket.socket.connect = _connect
socket.socket.connect_ex = _connect_ex
socket.create_connection = _refuse
socket.getaddrinfo = _refuse
socket.gethostbyname = _refuse
socket.gethostbyname_ex = _refuse
'''

#: Run by the venv's Python: import every top-level module of every distribution in the given site dirs.
IMPORT_PROBE = (
    """\
import importlib, importlib.util, json, sys
from importlib import metadata


def top_level(dist):
    text = dist.read_text("top_level.txt")
    if text:
        return sorted(set(text.split()))
    names = set()
    for path in dist.files or ():
        parts = path.parts
        if not parts or parts[0] in ("..", "__pycache__") or parts[0].endswith((".dist-info", ".data")):
            continue
        if len(parts) > 1:
            names.add(parts[0])
        elif parts[0].endswith(".py"):
            names.add(parts[0][:-3])
        elif parts[0].endswith((".so", ".pyd")):
            names.add(parts[0].split(".")[0])
    return sorted(names)


def plugins(dist):
    # top-level modules the distribution offers as plugins to other tools (entry points, not scripts)
    groups = ("console_scripts", "gui_scripts")
    return {ep.value.split(":")[0].split(".")[0] for ep in dist.entry_points if ep.group not in groups}


results = []
for dist in sorted(metadata.distributions(path=sys.argv[1:]), key=lambda d: d.metadata["Name"].lower()):
    for name in top_level(dist):
        if not name.isidentifier():
            continue
        status, error = "ok", ""
        try:
            importlib.import_module(name)
        except BaseException as exc:
            status, error = "error", "{}: {}".format(type(exc).__name__, exc).splitlines()[0]
            missing = (getattr(exc, "name", None) or "").split(".")[0]
            if isinstance(exc, ModuleNotFoundError) and missing and missing != name and name in plugins(dist):
                if importlib.util.find_spec(missing) is None:
                    status = "optional"
        results.append([dist.metadata["Name"], name, status, error])
sys.stdout.write("\\n"""
    + IMPORTS_MARKER
    + """" + json.dumps(results) + "\\n")
"""
)
