"""The model's submodels: small, documented functions, each with its equation and source.

Each mechanism works on numpy arrays, so a population of any size is updated
in a handful of vectorised operations, and reduces in a stated special case to
a canonical published model (see the tests in ``tests/test_reductions.py``).

=====================  =====================================================
module                 mechanism
=====================  =====================================================
``trust``              beta reputation: negativity bias, forgetting, history
``contact``            stigma under intergroup contact (Allport, Pettigrew)
``bounded_confidence`` attitude exchange between colleagues (Deffuant)
``voice``              psychological safety, who speaks up, airtime
``inclusion``          who sits on the team: convenience or deliberate
``power``              Arnstein's ladder: patient input weight, status
``priorities``         what matters vs staff assumptions; choosing changes
``pdsa``               Plan-Do-Study-Act testing before scale-up
``uptake``             Bass hazard and Granovetter threshold adoption
``feedback``           closing (or not) the feedback loop; tokenism felt
``sustainment``        decay of changes nobody reinforces
``care``               value of care, the quality of a visit, clinical drivers
``retention``          engagement, drop-out and return to care
``cascade``            treatment, adherence, viral load and its monitoring
``effects``            effects as ratios around a neutral reference
``crisis``             switch to command-and-control and recovery
=====================  =====================================================
"""
