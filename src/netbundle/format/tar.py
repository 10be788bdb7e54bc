"""Read a bundle: check its signatures, then every member, before anything leaves a private staging directory.

The order is the point. The tar is read once, front to back:

1. the first member must be ``netbundle/manifest.json`` (at most :data:`MAX_MANIFEST_BYTES`), followed by the
   signature files (``netbundle/signatures/<KEYID>.minisig``);
2. the signatures are checked against the trust policy *before* the manifest is parsed: nothing in it is believed
   until then;
3. every other member must be a regular file the manifest lists, at a safe path, seen once, with exactly the
   listed size (checked from the header, before its bytes are read, so a size bomb is refused unread) and sha256
   (hashed while it is copied into the staging directory);
4. every listed file must have been seen.

Links, devices, directories, FIFOs, absolute or ``..`` paths are refused by the reader itself, not by
``tarfile``'s extraction filters (which 3.9 hosts may lack): nothing is ever extracted by ``tarfile``.
Every problem found in step 3 and 4 is collected and reported at once; the staging directory is removed on failure.

``tarfile`` parses the headers only. A member's bytes are read straight from the file at the header's data offset,
exactly as many as the header says, into one reused buffer that is hashed and written from: through ``tarfile``'s
file objects the same work took three times as long as hashing the file (benchmarks/install_vs_pip.py).

Writing (the builder's side, :func:`write_bundle`) keeps the layout this reader depends on: uncompressed POSIX.1-2001
(pax) tar; the manifest first, then the signature files in name order, then every other member in path order;
regular files only (no directory entries); mode 0644, uid/gid 0, empty user/group names, one mtime for all
(``SOURCE_DATE_EPOCH``). The same members give the same bytes, on any machine, at any time; the file is written
under a temporary name and renamed into place (:mod:`netbundle._atomic`).
"""

from __future__ import annotations

import hashlib
import io
import os
import pathlib
import shutil
import tarfile
from dataclasses import dataclass

from .. import _atomic
from ..errors import BundleFormatError, IntegrityError
from . import layout, trust
from . import manifest as manifest_format

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import BinaryIO, Dict, List, Mapping, NoReturn, Optional, Set, Tuple, Type, Union

    from ..errors import NetbundleError
    from .manifest import Manifest
    from .minisign import PublicKey

    #: A problem with one member: the failure class it belongs to and a message naming the member.
    Problem = Tuple[Type[NetbundleError], str]
    #: A member's bytes to write: in memory, or the file that holds them.
    Content = Union[bytes, pathlib.Path]

#: Caps on the members read into memory before the signature is checked.
MAX_MANIFEST_BYTES = 16 * 1024 * 1024
MAX_SIGNATURE_BYTES = 64 * 1024
MAX_SIGNATURES = 32
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class UnverifiedBundle:
    """The manifest and signature files of a bundle, read but NOT verified (for ``inspect``)."""

    path: str
    manifest: Manifest
    manifest_bytes: bytes
    signatures: Dict[str, bytes]

    @property
    def manifest_sha256(self) -> str:
        return hashlib.sha256(self.manifest_bytes).hexdigest()


@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle whose signatures and every member checked out; ``root`` holds the staged members (or None)."""

    path: str
    manifest: Manifest
    manifest_bytes: bytes
    manifest_sha256: str
    signers: Tuple[PublicKey, ...]
    root: Optional[pathlib.Path]

    def member_path(self, path: str) -> pathlib.Path:
        """Where the staged copy of bundle member ``path`` is."""
        if self.root is None:
            raise ValueError("the bundle was verified without staging its files")
        self.manifest.file(path)  # KeyError for a path the manifest does not list
        return self.root.joinpath(*path.split("/"))


def verify_bundle(
    path: Union[str, os.PathLike[str]],
    policy: trust.TrustPolicy,
    staging: Optional[pathlib.Path] = None,
    backend: Optional[str] = None,
) -> VerifiedBundle:
    """Verify the bundle at ``path`` against ``policy``; copy its members into ``staging`` when given.

    ``staging`` must not exist or be an empty directory; it is created private (0700). On any failure it is
    removed again and the error says what was wrong: :class:`BundleFormatError`, :class:`IntegrityError`, or
    one of the signature errors of :func:`netbundle.format.trust.verify_manifest`.
    """
    name = os.fspath(path)
    created = _prepare_staging(staging) if staging is not None else False
    try:
        with _open_stream(name) as archive:
            head, signatures, first = _read_head(archive, name)
            signers = trust.verify_manifest(head, signatures, policy, backend)
            parsed = _parse(head, name)
            _check_members(archive, first, parsed, name, staging)
    except BaseException:
        if staging is not None:
            _discard(staging, created)
        raise
    return VerifiedBundle(
        path=name,
        manifest=parsed,
        manifest_bytes=head,
        manifest_sha256=hashlib.sha256(head).hexdigest(),
        signers=signers,
        root=staging,
    )


def read_unverified(path: Union[str, os.PathLike[str]]) -> UnverifiedBundle:
    """The manifest and signatures of a bundle, without checking either (``inspect`` says so)."""
    name = os.fspath(path)
    with _open_stream(name) as archive:
        head, signatures, _ = _read_head(archive, name)
    return UnverifiedBundle(name, _parse(head, name), head, signatures)


# --- the stream ----------------------------------------------------------------------------------------------------


def _open_stream(name: str) -> tarfile.TarFile:
    try:
        return tarfile.open(name, mode="r:")
    except FileNotFoundError:
        raise BundleFormatError("{}: no such file".format(name)) from None
    except IsADirectoryError:
        raise BundleFormatError("{}: is a directory, not a bundle".format(name)) from None
    except (tarfile.TarError, OSError) as exc:
        raise BundleFormatError(
            "{}: not a tar archive ({})".format(name, exc),
            hint="a bundle is the .tar `netbundle build` wrote",
        ) from None


def _next(archive: tarfile.TarFile, name: str) -> Optional[tarfile.TarInfo]:
    try:
        return archive.next()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BundleFormatError("{}: damaged or truncated tar archive ({})".format(name, exc)) from None


def _read_small(archive: tarfile.TarFile, member: tarfile.TarInfo, limit: int, name: str) -> bytes:
    if not member.isreg():
        raise BundleFormatError("{}: member {} is not a regular file".format(name, member.name))
    if member.size > limit:
        raise BundleFormatError(
            "{}: member {} is {} bytes, more than the {} allowed".format(
                name, member.name, member.size, limit
            )
        )
    stream = archive.extractfile(member)
    data = stream.read() if stream is not None else b""
    if len(data) != member.size:
        raise BundleFormatError("{}: member {} is truncated".format(name, member.name))
    return data


def _read_head(
    archive: tarfile.TarFile, name: str
) -> Tuple[bytes, Dict[str, bytes], Optional[tarfile.TarInfo]]:
    """The manifest bytes, the signature files, and the first member after them."""
    first = _next(archive, name)
    if first is None or first.name != layout.MANIFEST_PATH:
        raise BundleFormatError(
            "{}: the first member must be {} (found {})".format(
                name, layout.MANIFEST_PATH, "nothing" if first is None else repr(first.name)
            ),
            hint="this is not a netbundle bundle, or it was repacked by another tool",
        )
    head = _read_small(archive, first, MAX_MANIFEST_BYTES, name)
    signatures: Dict[str, bytes] = {}
    member = _next(archive, name)
    while member is not None and member.name.startswith(layout.SIGNATURE_DIR):
        if member.name in signatures:
            raise BundleFormatError("{}: duplicate member {}".format(name, member.name))
        if len(signatures) >= MAX_SIGNATURES or not _is_signature_name(member.name):
            raise BundleFormatError("{}: unexpected signature member {}".format(name, member.name))
        signatures[member.name] = _read_small(archive, member, MAX_SIGNATURE_BYTES, name)
        member = _next(archive, name)
    return head, signatures, member


def _is_signature_name(member: str) -> bool:
    rest = member[len(layout.SIGNATURE_DIR) :]
    stem = rest[: -len(layout.SIGNATURE_SUFFIX)]
    return (
        rest.endswith(layout.SIGNATURE_SUFFIX)
        and len(stem) == 16
        and all(c in "0123456789ABCDEF" for c in stem)
    )


def _parse(head: bytes, name: str) -> Manifest:
    try:
        return manifest_format.parse_manifest(head)
    except manifest_format.ManifestError as exc:
        raise BundleFormatError("{}: {}".format(name, exc)) from None


# --- members -------------------------------------------------------------------------------------------------------


def _check_members(
    archive: tarfile.TarFile,
    first: Optional[tarfile.TarInfo],
    parsed: Manifest,
    name: str,
    staging: Optional[pathlib.Path],
) -> None:
    """Check every member. A member that may not be read at all (unknown, unsafe, a link, a wrong size in its
    header) stops the reading at once: nothing after it can be trusted to be framed right. Content mismatches
    are collected, so that one report names every damaged file."""
    expected = {entry.path: entry for entry in parsed.files}
    seen: Set[str] = set()
    problems: List[Problem] = []
    buffer = memoryview(bytearray(_CHUNK))  # every member's bytes pass through this one buffer
    member = first
    while member is not None:
        problem = _member_problem(member, expected, seen)
        if problem is not None:
            _fail(name, [*problems, problem])
        seen.add(member.name)
        try:
            problem = _copy_member(archive, member, expected[member.name], staging, buffer)
        except (tarfile.TarError, EOFError, OSError) as exc:
            _fail(name, [*problems, (IntegrityError, "{!r}: truncated ({})".format(member.name, exc))])
        if problem is not None:
            problems.append(problem)
        try:
            member = _next(archive, name)
        except BundleFormatError as exc:
            _fail(name, [*problems, (BundleFormatError, exc.message)])
    missing = sorted(set(expected) - seen)
    problems.extend((IntegrityError, "{!r}: missing".format(path)) for path in missing)
    if problems:
        _fail(name, problems)


def _fail(name: str, problems: List[Problem]) -> NoReturn:
    integrity_only = all(kind is IntegrityError for kind, _ in problems)
    error = IntegrityError if integrity_only else BundleFormatError
    shown = "; ".join(message for _, message in problems[:5])
    more = " (and {} more)".format(len(problems) - 5) if len(problems) > 5 else ""
    raise error(
        "{}: {}{}".format(name, shown, more),
        hint="do not install it; fetch the bundle again from where it was published",
    )


def _member_problem(
    member: tarfile.TarInfo, expected: Dict[str, manifest_format.FileEntry], seen: Set[str]
) -> Optional[Problem]:
    """Why a member may not be read (None: it may, and its bytes are then checked)."""
    label = repr(member.name)
    if member.issym() or member.islnk():
        return BundleFormatError, "{}: a link (to {!r}); bundles hold regular files only".format(
            label, member.linkname
        )
    if not member.isreg() or member.type == tarfile.GNUTYPE_SPARSE:
        return BundleFormatError, "{}: not a regular file (type {!r})".format(label, member.type)
    if member.name.startswith("/") or ".." in member.name.split("/"):
        return BundleFormatError, "{}: unsafe path".format(label)
    if member.name in seen:
        return BundleFormatError, "{}: duplicate member".format(label)
    entry = expected.get(member.name)
    if entry is None:
        return BundleFormatError, "{}: not listed in the manifest".format(label)
    if member.size != entry.size:
        return IntegrityError, "{}: {} bytes, the manifest says {}".format(label, member.size, entry.size)
    return None


def _copy_member(
    archive: tarfile.TarFile,
    member: tarfile.TarInfo,
    entry: manifest_format.FileEntry,
    staging: Optional[pathlib.Path],
    buffer: memoryview,
) -> Optional[Problem]:
    raw: io.BufferedIOBase = archive.fileobj  # type: ignore[assignment] # the file tarfile.open() opened ("r:")
    raw.seek(member.offset_data)
    target = None
    if staging is not None:
        target = staging.joinpath(*member.name.split("/"))
        target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    digest, size = _hash_copy(raw, member.size, target, buffer)
    if size != entry.size:
        return IntegrityError, "{!r}: {} bytes, the manifest says {} (truncated)".format(
            member.name, size, entry.size
        )
    if digest != entry.sha256:
        return IntegrityError, "{!r}: sha256 differs from the manifest".format(member.name)
    return None


def _hash_copy(
    raw: io.BufferedIOBase, length: int, target: Optional[pathlib.Path], buffer: memoryview
) -> Tuple[str, int]:
    """Hash (and copy to ``target``) the next ``length`` bytes of ``raw``; returns the digest and the bytes read."""
    digest = hashlib.sha256()
    size = 0
    out = None
    if target is not None:
        fd = os.open(str(target), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        out = os.fdopen(fd, "wb")
    try:
        while size < length:
            count = raw.readinto(buffer[: min(len(buffer), length - size)])
            if not count:
                break  # the file ends inside this member: the caller reports it truncated
            chunk = buffer[:count]
            digest.update(chunk)
            size += count
            if out is not None:
                out.write(chunk)
    finally:
        if out is not None:
            out.close()
    return digest.hexdigest(), size


# --- staging -------------------------------------------------------------------------------------------------------


def _prepare_staging(staging: pathlib.Path) -> bool:
    """Create ``staging`` private (True) or accept an existing empty directory (False)."""
    try:
        staging.mkdir(mode=0o700)
        return True
    except FileExistsError:
        if not staging.is_dir() or any(staging.iterdir()):
            raise BundleFormatError(
                "{}: the staging directory exists and is not empty".format(staging)
            ) from None
        staging.chmod(0o700)
        return False


def _discard(staging: pathlib.Path, created: bool) -> None:
    if created:
        shutil.rmtree(str(staging), ignore_errors=True)
        return
    for child in list(staging.iterdir()) if staging.is_dir() else []:
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(str(child), ignore_errors=True)
        else:
            child.unlink()


# --- writing (builder side) -------------------------------------------------------------------------------------


def content_digest(content: Content) -> Tuple[str, int]:
    """The sha256 (hex) and size of a member's content, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with _open_content(content) as stream:
        while True:
            chunk = stream.read(_CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def file_sha256(path: pathlib.Path) -> str:
    """The sha256 (hex) of a file's bytes."""
    return content_digest(path)[0]


def file_entry(path: str, kind: str, content: Content) -> manifest_format.FileEntry:
    """The manifest entry of a member: its size and sha256, read from the content itself."""
    sha256, size = content_digest(content)
    return manifest_format.FileEntry(path=path, size=size, sha256=sha256, kind=kind)


def write_bundle(
    out: pathlib.Path,
    *,
    manifest: bytes,
    signatures: Mapping[str, bytes],
    files: Mapping[str, Content],
    mtime: int,
) -> pathlib.Path:
    """Write the bundle tar to ``out`` atomically and return ``out``.

    ``signatures`` maps member names under ``netbundle/signatures/`` to signature file bytes; ``files`` maps the
    manifest's file paths to their content.
    """
    signature_dir = layout.SIGNATURE_DIR
    members: List[Tuple[str, Content]] = [(layout.MANIFEST_PATH, manifest)]
    for name in sorted(signatures):
        if not name.startswith(signature_dir) or "/" in name[len(signature_dir) :]:
            raise ValueError("signature member outside {}: {}".format(signature_dir, name))
        members.append((name, signatures[name]))
    for path in sorted(files):
        if not manifest_format.is_safe_member_path(path):
            raise ValueError("unsafe bundle member path: {}".format(path))
        members.append((path, files[path]))
    out.parent.mkdir(parents=True, exist_ok=True)
    with (
        _atomic.atomic_output(out) as raw,
        tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for name, content in members:
            _add_member(tar, name, content, mtime)
    return out


def _content_size(content: Content) -> int:
    return len(content) if isinstance(content, bytes) else content.stat().st_size


def _open_content(content: Content) -> BinaryIO:
    return io.BytesIO(content) if isinstance(content, bytes) else content.open("rb")


def _add_member(tar: tarfile.TarFile, name: str, content: Content, mtime: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = _content_size(content)
    info.mtime = mtime
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.type = tarfile.REGTYPE
    with _open_content(content) as stream:
        tar.addfile(info, stream)
