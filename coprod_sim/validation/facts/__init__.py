"""The nine stylized facts of the domain brief, the CaReQIC case and the care cascade, as checks
on sweep results.

Each fact is a module (``fact1_tokenism`` … ``fact9_tipping``, ``careqic_case``) defining
its :class:`Fact`: the spec in ``coprod_sim/validation/specs/`` that shows it (replications,
confidence intervals) and the sweep that looks for where it fails. Its ``checks`` turn the
first sweep's results into directional claims with paired 95% intervals; its ``regions``
apply the central contrast cell by cell across the second sweep's moderators, so the report
can say where the fact holds and where it does not. :mod:`.common` holds what they share.

Each reads the levels and scenarios it contrasts from the spec that ran (its results
folder), and every fact and check has an id that does not depend on its wording.

Nothing here feeds back into the model: a fact holds or not because of what
the mechanisms produced, and a fact the model does not produce is reported so.
"""

from coprod_sim.validation.facts import (
    careqic_case,
    cascade,
    fact1_tokenism,
    fact2_feedback,
    fact3_staff_assumptions,
    fact4_inclusion,
    fact5_contact,
    fact6_slower_sustained,
    fact7_group_size,
    fact8_crisis,
    fact9_tipping,
)
from coprod_sim.validation.facts.common import (
    COPRODUCED,
    STAFF_LED,
    Fact,
    Measure,
    RegionCheck,
    SpecMismatchError,
    SpecRun,
    StudyData,
    contrast,
    derive,
    key_population_share,
)
from coprod_sim.validation.facts.fact6_slower_sustained import FIRST_WEEKS, site_weeks_waiting
from coprod_sim.validation.facts.fact9_tipping import (
    TAKE_OFF_SHARE,
    TIPPING_SLOPE,
    steepest_rise,
    take_off_shortfall,
)

FACTS: tuple[Fact, ...] = (
    fact1_tokenism.FACT,
    fact2_feedback.FACT,
    fact3_staff_assumptions.FACT,
    fact4_inclusion.FACT,
    fact5_contact.FACT,
    fact6_slower_sustained.FACT,
    fact7_group_size.FACT,
    fact8_crisis.FACT,
    fact9_tipping.FACT,
    careqic_case.FACT,
    cascade.FACT,
)

__all__ = [
    "COPRODUCED",
    "FACTS",
    "FIRST_WEEKS",
    "STAFF_LED",
    "TAKE_OFF_SHARE",
    "TIPPING_SLOPE",
    "Fact",
    "Measure",
    "RegionCheck",
    "SpecMismatchError",
    "SpecRun",
    "StudyData",
    "contrast",
    "derive",
    "key_population_share",
    "site_weeks_waiting",
    "steepest_rise",
    "take_off_shortfall",
]
