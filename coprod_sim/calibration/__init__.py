"""Calibration: fitting the model's parameters to observed data by ABC-SMC, with a
posterior that comparisons and sweeps can draw from.

* :mod:`~coprod_sim.calibration.spec`: what to fit, to which targets, on what schedule;
* :mod:`~coprod_sim.calibration.summaries`: the statistic each target compares;
* :mod:`~coprod_sim.calibration.simulation`: one particle's runs (in a worker);
* :mod:`~coprod_sim.calibration.sampler`: a reproducible, resumable pyabc sampler;
* :mod:`~coprod_sim.calibration.log`: every simulation, on disk as it finishes;
* :mod:`~coprod_sim.calibration.run`: the folder and the run that fills it;
* :mod:`~coprod_sim.calibration.report`: posterior, predictive check, figures, HTML.
"""
