"""`python -m pilotscale.cli`: the same as the `pilotscale` command."""

from pilotscale.cli.script import main

if __name__ == "__main__":
    main()
