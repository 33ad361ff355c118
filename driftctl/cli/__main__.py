"""`python -m driftctl.cli`: the same as the `driftctl` console script."""

from driftctl.cli import main

main()
