"""``python -m coprod_sim`` runs the ``coprod`` command line."""

from coprod_sim.cli import main

main()
