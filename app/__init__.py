"""The coprod_sim scenario explorer: a Solara app for educators and planners.

Launch it with ``make app`` (or ``solara run app/app.py``). It uses only the public
API of :mod:`coprod_sim`; see ``app/README.md``.
"""
