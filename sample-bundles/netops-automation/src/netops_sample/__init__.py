"""netops-sample: the sample network-automation project that netbundle's main job bundles and installs."""

__version__ = "0.3.0"
