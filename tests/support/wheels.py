"""Tiny, valid wheels and sdists for tests (and for scripts/regen-lock-fixtures)."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

_DATE = (2020, 1, 1, 0, 0, 0)


def make_wheel(
    directory: Path,
    name: str,
    version: str,
    *,
    tag: str = "py3-none-any",
    requires: tuple[str, ...] = (),
    payload: str = "",
    entry_points: str = "",
    extra_files: dict[str, str] | None = None,
) -> Path:
    """A minimal valid wheel (METADATA, WHEEL, RECORD), byte-identical for the same arguments.

    ``entry_points`` is the text of ``entry_points.txt``; ``extra_files`` maps more member names to their text
    (``{dist}`` in a name stands for ``name-version``, e.g. ``{dist}.data/scripts/tool``).
    """
    directory.mkdir(parents=True, exist_ok=True)
    module = name.replace("-", "_")
    dist = f"{module}-{version}"
    path = directory / f"{dist}-{tag}.whl"
    files = {
        f"{module}/__init__.py": f'__version__ = "{version}"\n{payload}',
        f"{dist}.dist-info/METADATA": "Metadata-Version: 2.1\nName: {}\nVersion: {}\n{}".format(
            name, version, "".join(f"Requires-Dist: {r}\n" for r in requires)
        ),
        f"{dist}.dist-info/WHEEL": f"Wheel-Version: 1.0\nGenerator: netbundle-tests\nRoot-Is-Purelib: true\nTag: {tag}\n",
        f"{dist}.dist-info/top_level.txt": f"{module}\n",
    }
    if entry_points:
        files[f"{dist}.dist-info/entry_points.txt"] = entry_points
    for arcname, text in (extra_files or {}).items():
        files[arcname.replace("{dist}", dist)] = text
    record = []
    with zipfile.ZipFile(path, "w") as zf:
        for arcname, text in files.items():
            data = text.encode()
            zf.writestr(zipfile.ZipInfo(arcname, _DATE), data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{arcname},sha256={digest},{len(data)}")
        record.append(f"{dist}.dist-info/RECORD,,")
        zf.writestr(zipfile.ZipInfo(f"{dist}.dist-info/RECORD", _DATE), "\n".join(record) + "\n")
    return path


def make_sdist(directory: Path, name: str, version: str) -> Path:
    """A minimal sdist with a static PEP 621 pyproject (setuptools backend)."""
    directory.mkdir(parents=True, exist_ok=True)
    module = name.replace("-", "_")
    base = f"{module}-{version}"
    files = {
        f"{base}/pyproject.toml": f'[project]\nname = "{name}"\nversion = "{version}"\n\n[build-system]\n'
        'requires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n',
        f"{base}/{module}/__init__.py": f'__version__ = "{version}"\n',
        f"{base}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    }
    return write_tar_gz(directory / f"{base}.tar.gz", files)


def write_tar_gz(path: Path, files: dict[str, str], *, gzip_mtime: float | None = None) -> Path:
    """An sdist-like ``.tar.gz`` of ``files`` (member name -> text), each 0644 with one fixed mtime; the gzip
    header's time is ``gzip_mtime`` (0 for byte-identical archives), else now, as ``tarfile`` writes it."""
    with gzip.GzipFile(path, "wb", mtime=gzip_mtime) as gz, tarfile.open(fileobj=gz, mode="w") as tf:
        for arcname, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(arcname)
            info.size, info.mtime, info.mode = len(data), 1577836800, 0o644
            tf.addfile(info, io.BytesIO(data))
    return path


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


#: A C extension module ``<name>._probe`` whose ``probe()`` starts and joins a thread (``pthread_create``, which
#: glibc 2.34+ exports as ``pthread_create@GLIBC_2.34``) when NEW_GLIBC is defined, else calls only ``getpid``
#: (``GLIBC_2.2.5``): the glibc symbol version the built wheel needs is under the test's control.
_PROBE_C = """\
#include <Python.h>
#include <stdint.h>
#include <unistd.h>
#ifdef NEW_GLIBC
#include <pthread.h>
static void *run(void *arg) { return arg; }
static PyObject *probe(PyObject *self, PyObject *args) {
    pthread_t thread; void *out = NULL;
    if (pthread_create(&thread, NULL, run, (void *)42) != 0 || pthread_join(thread, &out) != 0) {
        return PyErr_Format(PyExc_OSError, "pthread failed");
    }
    return PyLong_FromLong((long)(intptr_t)out);
}
#else
static PyObject *probe(PyObject *self, PyObject *args) { return PyLong_FromLong(getpid() > 0 ? 42 : 0); }
#endif
static PyMethodDef methods[] = {{"probe", probe, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_probe", NULL, -1, methods};
PyMODINIT_FUNC PyInit__probe(void) { return PyModule_Create(&module); }
"""


def make_ext_sdist(directory: Path, name: str, version: str, *, new_glibc: bool) -> Path:
    """An sdist of a package with one C extension (setuptools): see ``_PROBE_C`` for what it needs of glibc."""
    directory.mkdir(parents=True, exist_ok=True)
    module = name.replace("-", "_")
    base = f"{module}-{version}"
    macros = '[("NEW_GLIBC", "1")]' if new_glibc else "[]"
    files = {
        f"{base}/pyproject.toml": f'[project]\nname = "{name}"\nversion = "{version}"\n\n[build-system]\n'
        'requires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n',
        f"{base}/setup.py": "from setuptools import Extension, setup\n\nsetup(ext_modules=[Extension("
        f'"{module}._probe", ["{module}/_probe.c"], define_macros={macros})], packages=["{module}"])\n',
        f"{base}/{module}/__init__.py": f'__version__ = "{version}"\n',
        f"{base}/{module}/_probe.c": _PROBE_C,
        f"{base}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
    }
    # byte-identical for the same arguments (gzip header time 0), so a rebuild finds it in the build cache
    return write_tar_gz(directory / f"{base}.tar.gz", files, gzip_mtime=0)
