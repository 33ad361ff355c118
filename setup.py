"""Package discovery that pyproject.toml alone cannot express (metadata stays in pyproject.toml).

The shipped policies live at the top of the repository (``policies/``, where users and `opa`/`conftest`
find them) and ship inside the package as ``driftctl.policies``: ``find_packages`` finds every
``driftctl*`` package, and ``package_dir`` maps the one that lives elsewhere.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["driftctl", "driftctl.*"]), "driftctl.policies"],
    package_dir={"driftctl.policies": "policies"},
)
