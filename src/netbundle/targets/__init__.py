"""Install targets: Python version + implementation + platform -> marker environment and wheel tags (pure)."""

from netbundle.targets.spec import (
    Target,
    expand_platforms,
    parse_target,
    resolve_targets,
    targets_from_config,
)

__all__ = ["Target", "expand_platforms", "parse_target", "resolve_targets", "targets_from_config"]
