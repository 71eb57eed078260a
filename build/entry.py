"""Entry point of the frozen `v2m` executable."""

from v2m.cli.main import main

main()
