"""The EE build context against the real ansible-builder, and its pip step run offline in a network namespace.

No container engine runs here, so the image build itself is out of reach. What is proven instead: the real
``ansible-builder create`` accepts the definition; every pip step of the generated Containerfile that installs
the bundle is offline; and that very step, taken out of the Containerfile, installs every package into a scratch
venv inside ``unshare -n`` (no network at all) from the context's own files.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from tests.support.wheels import make_wheel

from netbundle.format.manifest import FileEntry, Manifest, TargetEntry
from netbundle.format.tar import VerifiedBundle
from netbundle.runtime import eecontext

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[3]
ANSIBLE_BUILDER = REPO / ".venv-ansible" / "bin" / "ansible-builder"
#: ansible-builder 3.x always adds this step to its intermediate "builder" stage (its own tools, never bundle
#: content; see docs/ee.md). It is the one pip step of the Containerfile that netbundle does not write.
BUILDER_TOOLING_STEP = "RUN $PYCMD -m pip install --no-cache-dir bindep pyyaml packaging"
PY = f"{sys.version_info.major}.{sys.version_info.minor}"


@pytest.fixture(scope="module")
def ansible_builder() -> Path:
    if not ANSIBLE_BUILDER.is_file():
        pytest.fail(f"{ANSIBLE_BUILDER} is missing: run scripts/install-ansible-builder")
    return ANSIBLE_BUILDER


def _requirement(name: str, version: str, wheel: Path) -> str:
    return f"{name}=={version} \\\n    --hash=sha256:{hashlib.sha256(wheel.read_bytes()).hexdigest()}\n"


def staged_bundle(root: Path) -> VerifiedBundle:
    """A staged bundle of real wheels: main = netops-core (needs netops-util), group junos = junos-tool."""
    wheels = root / "wheels"
    core = make_wheel(wheels, "netops-core", "1.0", requires=("netops-util>=2",))
    util = make_wheel(wheels, "netops-util", "2.1")
    junos = make_wheel(wheels, "junos-tool", "0.3")
    make_wheel(wheels, "unused", "9.9")  # carried by the bundle, pinned by no chosen group: stays out
    locks = {
        "main": _requirement("netops-core", "1.0", core) + _requirement("netops-util", "2.1", util),
        "junos": _requirement("junos-tool", "0.3", junos),
    }
    target = f"cp{PY.replace('.', '')}-linux"
    files = [
        FileEntry(f"wheels/{w.name}", w.stat().st_size, _sha(w), "wheel") for w in sorted(wheels.iterdir())
    ]
    for group, text in locks.items():
        path = root / "locks" / target / f"requirements-{group}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        files.append(FileEntry(f"locks/{target}/{path.name}", path.stat().st_size, _sha(path), "lock"))
    entry = TargetEntry(
        name=target,
        python_version=PY,
        implementation="cp",
        abis=(),
        platforms=(),
        marker_environment={"sys_platform": "linux", "platform_machine": "x86_64"},
        locks={g: f"locks/{target}/requirements-{g}.txt" for g in locks},
        pylock=f"locks/{target}/pylock.toml",
    )
    manifest = Manifest("1.0", "netops-1.0-abc", "netops", "1.0", "0.1.0", "2026-01-01T00:00:00Z", "c" * 64,
                        "d" * 64, ("main", "junos"), (), (entry,), tuple(files), ())  # fmt: skip
    return VerifiedBundle("netops.tar", manifest, b"{}", "e" * 64, (), root)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def created(tmp_path_factory: pytest.TempPathFactory, ansible_builder: Path) -> Path:
    """The EE context written by netbundle, then turned into a build context by the real ansible-builder."""
    base = tmp_path_factory.mktemp("ee")
    bundle = staged_bundle(base / "staging")
    out = base / "ee"
    eecontext.write_ee_context(bundle, out, ["junos"], python=PY)
    argv = [str(ansible_builder), "create", "--output-filename", "Containerfile", "--context", "context"]
    run = subprocess.run(
        [*argv, "-f", eecontext.DEFINITION_NAME], cwd=out, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return out


def test_ansible_builder_create_accepts_the_context(created: Path) -> None:
    build = created / "context" / "_build" / eecontext.FILES_DIR
    assert sorted(p.name for p in (build / "wheels").iterdir()) == [
        "junos_tool-0.3-py3-none-any.whl",
        "netops_core-1.0-py3-none-any.whl",
        "netops_util-2.1-py3-none-any.whl",
    ]
    assert sorted(p.name for p in build.glob("requirements-*.txt")) == [
        "requirements-junos.txt",
        "requirements-main.txt",
    ]


def test_every_pip_step_for_the_bundle_is_offline(created: Path) -> None:
    containerfile = (created / "context" / "Containerfile").read_text()
    pip_steps = [line for line in containerfile.splitlines() if "pip install" in line]
    ours = [line for line in pip_steps if line != BUILDER_TOOLING_STEP]
    assert len(ours) == 1, pip_steps
    for flag in ("--no-index", "--require-hashes", "--only-binary=:all:", "PIP_CONFIG_FILE=/dev/null"):
        assert flag in ours[0]
    for online in ("--index-url", "--extra-index-url", "--trusted-host", "http://", "https://"):
        assert online not in containerfile
    assert "ansible-galaxy" not in containerfile and "AS galaxy" not in containerfile  # no galaxy stage
    assert "assemble" not in containerfile  # no python requirements went to ansible-builder's online step
    assert "dumb-init==" not in containerfile  # its default container_init pip step is left out
    assert 'ENTRYPOINT ["/opt/builder/bin/entrypoint", "dumb-init"]' in containerfile
    # the bundle step runs in the final stage, before ansible-builder's check of the final image
    final = containerfile.split("FROM base AS final", 1)[1]
    assert ours[0] in final and final.index(ours[0]) < final.index("check_ansible")


def test_the_pip_step_installs_everything_without_a_network(created: Path, tmp_path: Path) -> None:
    if shutil.which("unshare") is None:
        pytest.fail("unshare is missing: run scripts/install-test-tools")
    containerfile = (created / "context" / "Containerfile").read_text()
    step = next(line for line in containerfile.splitlines() if "--no-index" in line)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    command = (
        step.removeprefix("RUN ")
        .replace("$PYCMD", shlex.quote(str(python)))
        .replace(eecontext.IMAGE_DIR, shlex.quote(str(created / "context" / "_build" / eecontext.FILES_DIR)))
    )
    command = command.split(" && rm -rf ", 1)[0]  # keep the context for the other tests
    run = subprocess.run(["unshare", "-n", "sh", "-c", command], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    imported = subprocess.run(
        [str(python), "-c", "import netops_core, netops_util, junos_tool; print(netops_util.__version__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert imported.stdout.strip() == "2.1"
    listed = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True, check=True
    )
    assert "unused" not in listed.stdout


# --- the real sample: netbundle build of sample-bundles/netops-automation, then its EE context -------------------


def test_the_sample_bundle_installs_offline_from_its_ee_context(
    sample_bundle: tuple[Path, Path], ansible_builder: Path, tmp_path: Path
) -> None:
    bundle, pub = sample_bundle
    out = tmp_path / "ee"
    result = eecontext.ee_context_from_bundle(str(bundle), out, [str(pub)], groups=["junos"], python=PY)
    assert result.target == f"cp{PY.replace('.', '')}-manylinux_2_28_x86_64"
    argv = [
        str(ansible_builder),
        "create",
        "--output-filename",
        "Containerfile",
        "-f",
        eecontext.DEFINITION_NAME,
    ]
    created = subprocess.run(argv, cwd=out, capture_output=True, text=True, check=False)
    assert created.returncode == 0, created.stdout + created.stderr
    step = next(
        line for line in (out / "context" / "Containerfile").read_text().splitlines() if "--no-index" in line
    )
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    command = (
        step.removeprefix("RUN ")
        .replace("$PYCMD", shlex.quote(str(venv / "bin" / "python")))
        .replace(eecontext.IMAGE_DIR, shlex.quote(str(out / "context" / "_build" / eecontext.FILES_DIR)))
    )
    run = subprocess.run(["unshare", "-n", "sh", "-c", command], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    versions = subprocess.run(
        [str(venv / "bin" / "netops"), "versions", "--json"], capture_output=True, text=True, check=False
    )
    assert versions.returncode == 0, versions.stderr
    installed = json.loads(versions.stdout)
    assert all(installed["main"].values()) and all(installed["junos"].values())
    assert not any(installed["cisco"].values()) and not any(installed["arista"].values())
