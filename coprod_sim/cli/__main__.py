"""``python -m coprod_sim.cli`` runs the ``coprod`` command line, as ``python -m coprod_sim``."""

from coprod_sim.cli import main

main()
