"""Each CI template's shell steps, run locally in order against the sample project and a local index.

The templates are parsed (YAML for GitHub Actions and GitLab CI, a small Jenkinsfile reader below), their shell
steps run in the order the CI system would run them, with the variables the CI system would provide (secrets,
predefined variables) set by the test. Steps that are CI plugins rather than shell (``uses:`` actions, Jenkins
``archiveArtifacts``) are checked against what the shell steps produced.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import re
import subprocess
import textwrap
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from netbundle.format.minisign import parse_public_key

from .conftest import TEMPLATES, CIKey, load_yaml

pytestmark = pytest.mark.integration

_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def run_shell(script: str, shell: list[str], cwd: Path, env: Mapping[str, str]) -> None:
    result = subprocess.run(
        [*shell, script], cwd=cwd, env=dict(env), capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, (
        f"step failed:\n{script}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )


def check_outputs(project: Path, bundle: str, pub: Path) -> None:
    """What every template must leave: the bundle signed by the CI key, build.json, inspect.json, SHA256SUMS."""
    path = project / bundle
    build = json.loads((project / "dist" / "build.json").read_text())
    inspect = json.loads((project / "dist" / "inspect.json").read_text())
    assert build["bundle_id"] == inspect["bundle_id"]
    assert inspect["project"] == {"name": "netops-sample", "version": "0.3.0"}
    assert inspect["signers"] == [parse_public_key(pub.read_text()).key_id_hex]
    assert inspect["groups"] == ["arista", "cisco", "junos", "main"]
    assert len(inspect["targets"]) == 3
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert (project / "dist" / "SHA256SUMS").read_text() == f"{digest}  {path.name}\n"


def expand(value: str, env: Mapping[str, str]) -> str:
    """Shell-style ``$VAR`` / ``${VAR}`` expansion (what GitLab does to its ``variables``)."""
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: env.get(m.group(1), ""), value)


# --- GitHub Actions ------------------------------------------------------------------------------------------------


def test_github_actions_template(project: Path, ci_env: dict[str, str], ci_key: CIKey) -> None:
    workflow = load_yaml(TEMPLATES / "github" / "netbundle.yml")
    job = workflow["jobs"]["bundle"]
    provided = {  # what GitHub would put in for the ${{ }} expressions and secrets
        "BUNDLE": "dist/netops-automation-v0.3.0.tar",
        "NETBUNDLE_SIGN_KEY": ci_key.secret_text,
    }
    uses = []
    for step in job["steps"]:
        if "uses" in step:
            uses.append(step)
            continue
        env = {**job.get("env", {}), **step.get("env", {})}
        env = {k: str(v) for k, v in env.items()}
        unresolved = {k for k, v in env.items() if _EXPRESSION.search(v)} - set(provided) - set(ci_env)
        assert not unresolved, f"the test must provide {unresolved}"
        env.update(ci_env)
        env.update(provided)
        run_shell(step["run"], ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"], project, env)
    check_outputs(project, provided["BUNDLE"], ci_key.pub_path)
    assert not list(Path(ci_env["TMPDIR"]).iterdir()), "the key file written from the secret must be removed"
    publish = next(s for s in uses if s["uses"].startswith("actions/upload-artifact@"))
    patterns = publish["with"]["path"].split()
    assert {p.name for pattern in patterns for p in project.glob(pattern)} == {
        "netops-automation-v0.3.0.tar",
        "build.json",
        "inspect.json",
        "SHA256SUMS",
    }


# --- GitLab CI -----------------------------------------------------------------------------------------------------


class _Uploads(http.server.BaseHTTPRequestHandler):
    received: dict[str, bytes] = {}  # noqa: RUF012 - one server per test, reset by the fixture

    def do_PUT(self) -> None:
        assert self.headers["JOB-TOKEN"] == "job-token"
        self.received[self.path] = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(201)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def package_registry() -> Iterator[str]:
    """A stand-in for GitLab's generic package registry API on 127.0.0.1 (accepts PUT uploads)."""
    _Uploads.received = {}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Uploads)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v4"
    finally:
        server.shutdown()
        server.server_close()


def test_gitlab_ci_template(
    project: Path, ci_env: dict[str, str], ci_key: CIKey, package_registry: str
) -> None:
    pipeline = load_yaml(TEMPLATES / "gitlab" / "gitlab-ci.yml")
    predefined = {
        "CI_PROJECT_NAME": "netops-automation",
        "CI_COMMIT_REF_SLUG": "v0-3-0",
        "CI_COMMIT_TAG": "v0.3.0",
        "CI_API_V4_URL": package_registry,
        "CI_PROJECT_ID": "42",
        "CI_JOB_TOKEN": "job-token",
        "NETBUNDLE_SIGN_KEY_FILE": str(ci_key.key_path),  # a "File" variable is a path to the secret
    }
    env = {**ci_env, **predefined}
    for key, value in pipeline["variables"].items():
        env.setdefault(key, expand(str(value), env))
    env["NETBUNDLE_CACHE_DIR"] = ci_env["NETBUNDLE_CACHE_DIR"]
    jobs = {name: job for name, job in pipeline.items() if isinstance(job, dict) and "stage" in job}
    ran = []
    for stage in pipeline["stages"]:
        for name, job in jobs.items():
            if job["stage"] != stage:
                continue
            script = "\n".join([*pipeline["default"]["before_script"], *job["script"]])
            run_shell(script, ["bash", "-e", "-c"], project, env)
            ran.append(name)
    assert ran == ["build", "verify", "publish"]
    assert pipeline["publish"]["rules"] == [{"if": "$CI_COMMIT_TAG"}]
    bundle = env["BUNDLE"]
    assert bundle == "dist/netops-automation-v0-3-0.tar"
    check_outputs(project, bundle, ci_key.pub_path)
    base = "/api/v4/projects/42/packages/generic/netops-automation/v0.3.0/"
    assert _Uploads.received[base + "netops-automation-v0-3-0.tar"] == (project / bundle).read_bytes()
    assert base + "SHA256SUMS" in _Uploads.received


# --- Jenkins -------------------------------------------------------------------------------------------------------

_SH_STEP = re.compile(r"""\bsh\s*\(?\s*'''(.*?)'''""", re.DOTALL)
_LITERAL_ENV = re.compile(r"""^\s*([A-Z_][A-Z0-9_]*)\s*=\s*'([^']*)'\s*$""", re.MULTILINE)


def jenkins_shell_steps(text: str) -> list[str]:
    """The ``sh '''...'''`` steps of a declarative Jenkinsfile, in file order, dedented.

    Only triple-single-quoted steps are read: the templates use no other form, because Groovy interpolates
    nothing inside ''' ''' (secrets stay in the shell's environment). A step of another form fails the test
    instead of being skipped silently.
    """
    assert not re.search(r"""\bsh\s*\(?\s*(["]|'(?!''))""", text), "only sh '''...''' steps are supported"
    return [textwrap.dedent(body).strip() + "\n" for body in _SH_STEP.findall(text)]


def jenkins_literal_environment(text: str) -> dict[str, str]:
    """``KEY = 'value'`` entries of the ``environment { }`` block (Groovy string literals, no interpolation)."""
    block = re.search(r"environment\s*\{(.*?)\}", text, re.DOTALL)
    assert block is not None
    return dict(_LITERAL_ENV.findall(block.group(1)))


def test_jenkins_reader_reads_steps_in_order() -> None:
    text = "stage('a') { steps { sh '''\n    echo one\n''' } }\nstage('b') { steps { sh('''echo two''') } }"
    assert jenkins_shell_steps(text) == ["echo one\n", "echo two\n"]


def test_jenkinsfile_template(project: Path, ci_env: dict[str, str], ci_key: CIKey) -> None:
    text = (TEMPLATES / "jenkins" / "Jenkinsfile").read_text()
    env = {**jenkins_literal_environment(text), **ci_env}
    env.update(
        {
            "BUNDLE": "dist/netops-automation-7.tar",  # "dist/${env.JOB_BASE_NAME}-${env.BUILD_NUMBER}.tar"
            "NETBUNDLE_SIGN_KEY_FILE": str(ci_key.key_path),  # withCredentials(file(...))
        }
    )
    steps = jenkins_shell_steps(text)
    assert len(steps) == 3
    for script in steps:
        run_shell(script, ["sh", "-e", "-c"], project, env)  # Jenkins runs sh steps with /bin/sh -xe
    check_outputs(project, env["BUNDLE"], ci_key.pub_path)
    archived = re.search(r"archiveArtifacts artifacts: '([^']*)'", text)
    assert archived is not None
    patterns = [p.strip() for p in archived.group(1).split(",")]
    assert {p.name for pattern in patterns for p in project.glob(pattern)} == {
        "netops-automation-7.tar",
        "build.json",
        "inspect.json",
        "SHA256SUMS",
    }
