"""``netbundle ee-context``: an ansible-builder (v3) build context that installs a bundle offline."""

from __future__ import annotations

import json
from pathlib import Path

import click

from netbundle.runtime import eecontext

EPILOG = """
Examples:

\b
  netbundle ee-context site-1.4.0.tar --trust release.pub --group junos -o build/ee
  netbundle ee-context site-1.4.0.tar --trust trust.txt --base-image mirror.corp/ee-minimal:2.5 \\
      --python 3.11 -o build/ee
  cd build/ee && ansible-builder build -f execution-environment.yml -t netops-ee:1.4.0
"""


@click.command("ee-context", epilog=EPILOG)
@click.argument("bundle", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="New (or empty) directory for the build context; never overwritten.",
)
@click.option(
    "--trust",
    "trust_files",
    multiple=True,
    metavar="FILE",
    help="A minisign .pub file or a netbundle trust file (repeatable).",
)
@click.option(
    "--group", "groups", multiple=True, metavar="GROUP", help="A bundle group to install besides main."
)
@click.option(
    "--target", metavar="NAME", help="The bundle target to install (default: the one fitting the image)."
)
@click.option(
    "--base-image",
    default=eecontext.DEFAULT_BASE_IMAGE,
    show_default=True,
    help="The EE base image (images.base_image.name).",
)
@click.option(
    "--python", metavar="X.Y", help="The base image's Python, to pick the target (not needed for awx-ee)."
)
@click.option(
    "--arch",
    "machine",
    default=eecontext.DEFAULT_MACHINE,
    show_default=True,
    help="The image's machine (platform_machine), to pick the target.",
)
@click.option("--python-path", help="The image's interpreter (default: /usr/bin/pythonX.Y of the target).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def ee_context(
    bundle: str,
    output: Path,
    trust_files: tuple[str, ...],
    groups: tuple[str, ...],
    target: str | None,
    base_image: str,
    python: str | None,
    machine: str,
    python_path: str | None,
    as_json: bool,
) -> None:
    """Write an ansible-builder build context (definition version 3) for BUNDLE.

    The bundle is verified first (signatures, then every member). The context carries only the wheels that the
    chosen target and groups pin, and their hash-pinned requirement files; its one pip step installs them with
    --no-index --require-hashes --only-binary=:all:, so the image build reaches no index for the bundle.
    """
    result = eecontext.ee_context_from_bundle(
        bundle,
        output,
        trust_files,
        groups=groups,
        target=target,
        base_image=base_image,
        python=python,
        machine=machine,
        python_path=python_path,
    )
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, sort_keys=True))
        return
    click.echo(f"{result.definition}: target {result.target}, groups {', '.join(result.groups)}")
    click.echo(f"  {len(result.wheels)} wheels in {output / eecontext.FILES_DIR / 'wheels'}")
    click.echo(f"  build it: cd {output} && ansible-builder build -f {eecontext.DEFINITION_NAME} -t IMAGE")
