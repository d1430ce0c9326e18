"""The validation study: canonical reductions, the nine stylized facts and the CaReQIC case.

* :mod:`~coprod_sim.validation.checks`: a claim, its measured number with a 95% interval,
  and the verdict;
* :mod:`~coprod_sim.validation.reductions`: each mechanism against its published model;
* :mod:`~coprod_sim.validation.facts`: the stylized facts as checks on sweep results, one
  module per fact, each reading the levels and scenarios it contrasts from the spec that ran;
* :mod:`~coprod_sim.validation.study`: runs the specs in ``specs/``, shipped with the package;
* :mod:`~coprod_sim.validation.report`: writes the report (``docs/validation.md``) and its
  figures.

The command, ``coprod validate``, is :mod:`coprod_sim.cli.validate`; nothing here imports it.
"""
