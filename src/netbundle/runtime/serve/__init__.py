"""``serve``: a verified bundle as a read-only package index (PEP 503 HTML, PEP 691 JSON) for a site's LAN.

Steps: verify the signatures and every member into a private staging directory (the same
:func:`~netbundle.format.tar.verify_bundle` as ``install``; a bundle that fails is never served) → choose the
targets → read each served wheel's core metadata → render every page once → serve those bytes and the staged files
until SIGTERM or SIGINT, then remove the staging directory.

:mod:`.index` renders the pages (pure), :mod:`.protocol` decides routes, content types, ranges and ETags (pure),
:mod:`.handler` is the HTTP server. Nothing served is read from anywhere but the staged, verified copy.
"""

from __future__ import annotations

import ipaddress
import pathlib
import shutil
import signal
import socket
import tempfile
import threading
from dataclasses import dataclass

from ...errors import BundleFormatError, ServeError
from ...format.tar import verify_bundle
from .handler import IndexServer, Limits, Site, StagedFile
from .index import SIMPLE_PREFIX, build_index, render_pages, selected_members
from .metadata import read_core_metadata

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Dict, Optional, Tuple

    from ...format.manifest import Manifest
    from ...format.tar import VerifiedBundle
    from ...format.trust import TrustPolicy

__all__ = ["ServeInfo", "ServeRequest", "serve"]

DEFAULT_BIND = "127.0.0.1"
DEFAULT_PORT = 8000


@dataclass(frozen=True)
class ServeRequest:
    """What to serve and where: ``target`` a bundle target name, or every target with ``all_targets``, or
    (neither) the target that best fits this host, as ``install`` would choose it."""

    bundle: str
    bind: str = DEFAULT_BIND
    port: int = DEFAULT_PORT
    target: Optional[str] = None
    all_targets: bool = False
    limits: Limits = Limits()  # noqa: RUF009 # frozen, so one shared default is safe


@dataclass(frozen=True)
class ServeInfo:
    """The running server: printed once it accepts connections (``--json`` prints :meth:`to_json`)."""

    url: str
    bind: str
    port: int
    project: str
    version: str
    bundle_id: str
    targets: Tuple[str, ...]
    projects: int
    files: int
    signers: Tuple[str, ...]

    def to_json(self) -> Dict[str, Any]:
        return {
            "url": self.url,
            "bind": self.bind,
            "port": self.port,
            "project": self.project,
            "version": self.version,
            "bundle_id": self.bundle_id,
            "targets": list(self.targets),
            "projects": self.projects,
            "files": self.files,
            "signers": list(self.signers),
        }

    def render_text(self) -> str:
        return "serving {} {} (bundle {}), targets {}: {} projects, {} files at {}\nstop with Ctrl-C or SIGTERM".format(
            self.project,
            self.version,
            self.bundle_id,
            ", ".join(self.targets),
            self.projects,
            self.files,
            self.url,
        )


def serve(
    request: ServeRequest,
    policy: TrustPolicy,
    ready: Callable[[ServeInfo], None],
    log: Callable[[str], None],
    stop: Optional[threading.Event] = None,
) -> str:
    """Verify ``request.bundle``, then serve it until SIGTERM/SIGINT (or ``stop`` is set); return the reason.

    :param ready: called once with the server's address when it accepts connections.
    :param log: gets the access-log lines (one per request) and the warnings.
    :raises BundleFormatError, IntegrityError, SignatureError: the bundle failed verification (10-15).
    :raises UsageError: the bundle has no target ``request.target``. :raises TargetError: no target fits this host.
    :raises ServeError: the address cannot be bound.
    """
    staging = _make_staging()
    try:
        bundle = verify_bundle(request.bundle, policy, staging / "bundle")
        targets = choose_targets(bundle.manifest, request)
        site, count = build_site(bundle, targets)
        server = _bind(request, site, log)
        try:
            _warn_if_exposed(request.bind, server.server_address[1], log)
            signers = tuple(key.key_id_hex for key in bundle.signers)
            info = _info(request, server, bundle, targets, count, len(site.files), signers)
            return _run(server, stop or threading.Event(), lambda: ready(info))
        finally:
            server.server_close()
    finally:
        shutil.rmtree(str(staging), ignore_errors=True)


def _make_staging() -> pathlib.Path:
    """A private (0700) directory for the verified copy, in ``$TMPDIR``."""
    try:
        return pathlib.Path(tempfile.mkdtemp(prefix="netbundle-serve-"))
    except OSError as exc:
        raise ServeError(
            "cannot create a staging directory in {}: {}".format(tempfile.gettempdir(), exc.strerror or exc),
            hint="set TMPDIR to a writable directory with room for one copy of the bundle",
        ) from None


def choose_targets(manifest: Manifest, request: ServeRequest) -> Tuple[str, ...]:
    """The target names whose files are served (see :class:`ServeRequest`)."""
    if request.all_targets:
        return tuple(t.name for t in manifest.targets)
    # host imports packaging (shipped in the pyz): only target choice needs it, the server itself does not
    from ..host import HostInfo, choose_target, named_target

    if request.target is not None:
        return (named_target(manifest, request.target).name,)
    return (choose_target(manifest, HostInfo.current()).name,)


def build_site(bundle: VerifiedBundle, targets: Tuple[str, ...]) -> Tuple[Site, int]:
    """The pages, files and metadata files the server offers (and the number of projects)."""
    metadata: Dict[str, bytes] = {}
    for _, _, member in selected_members(bundle.manifest, targets):
        core = read_core_metadata(bundle.member_path(member), member.rsplit("/", 1)[-1])
        if core is not None:
            metadata[member] = core
    try:
        index = build_index(bundle.manifest, targets, metadata)
    except ValueError as exc:
        raise BundleFormatError(
            "{}: {}".format(bundle.path, exc), hint="serve one target (--target)"
        ) from None
    files = {f.filename: StagedFile(bundle.member_path(f.member), f.size, f.sha256) for f in index.files()}
    by_name = {f.filename: metadata[f.member] for f in index.files() if f.member in metadata}
    return Site(pages=render_pages(index), files=files, metadata=by_name), len(index.projects)


def _bind(request: ServeRequest, site: Site, log: Callable[[str], None]) -> IndexServer:
    try:
        return IndexServer((request.bind, request.port), site, log, request.limits)
    except (OSError, OverflowError) as exc:
        raise ServeError(
            "cannot listen on {}:{}: {}".format(
                request.bind, request.port, getattr(exc, "strerror", None) or exc
            ),
            hint="choose another --port (0 picks a free one), or a --bind address of this host",
        ) from None


def _warn_if_exposed(bind: str, port: int, log: Callable[[str], None]) -> None:
    try:
        loopback = ipaddress.ip_address(bind).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        log(
            "netbundle: warning: listening on {} port {}, not loopback: every host that reaches this address can "
            "download the served files".format(bind, port)
        )


def _info(
    request: ServeRequest,
    server: IndexServer,
    bundle: VerifiedBundle,
    targets: Tuple[str, ...],
    projects: int,
    files: int,
    signers: Tuple[str, ...],
) -> ServeInfo:
    port = int(server.server_address[1])
    manifest = bundle.manifest
    return ServeInfo(
        url=index_url(request.bind, port),
        bind=request.bind,
        port=port,
        project=manifest.project_name,
        version=manifest.project_version,
        bundle_id=manifest.bundle_id,
        targets=targets,
        projects=projects,
        files=files,
        signers=signers,
    )


def index_url(bind: str, port: int) -> str:
    """The index URL clients use: the bound address (this host's name for a wildcard address)."""
    host = socket.getfqdn() if bind in ("0.0.0.0", "::", "") else bind  # noqa: S104 # recognizing it, not binding
    if ":" in host:
        host = "[{}]".format(host)
    return "http://{}:{}{}".format(host, port, SIMPLE_PREFIX)


def _run(server: IndexServer, stop: threading.Event, ready: Callable[[], None]) -> str:
    """Serve on a thread until a signal (or ``stop``); the main thread only waits, so handlers can run there.
    ``ready`` is called once the handlers are in place (a script may signal as soon as it sees the URL)."""
    reason = ["stopped"]

    def on_signal(signum: int, _frame: Any) -> None:
        reason[0] = signal.Signals(signum).name
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, on_signal)
    worker = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    worker.start()
    try:
        ready()
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        worker.join()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return reason[0]
