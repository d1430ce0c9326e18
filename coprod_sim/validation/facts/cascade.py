"""The care cascade: what coproduction does to viral suppression and retention.

Not one of the nine stylized facts: the planner's question, in the units health systems use.
The arms are the spec's scenarios labelled ``careqic``, ``staff_led``, ``partnership`` and
``tokenistic``; each claim is a paired contrast, with its minimum important effect declared
in the spec, and "no important difference" is as much a finding as "holds".
"""

from __future__ import annotations

from coprod_sim.validation.checks import Check, claim
from coprod_sim.validation.facts.common import STAFF_LED, Fact, StudyData, contrast

SPEC = "cascade"
OUTCOMES = {
    "suppression": ("key_suppression_enrolled", "viral suppression among key populations "
                    "enrolled (share)"),
    "retention": ("key_retention", "retention in care among key populations (share)"),
    "people": ("key_suppressed", "people of the key populations virally suppressed"),
}  # fmt: skip


def checks(data: StudyData) -> dict[str, Check]:
    margin = data.spec(SPEC).margin  # each claim's minimum important effect
    run, s = data.spec(SPEC), "Care cascade"
    runs = data.runs(SPEC, *(column for column, _ in OUTCOMES.values()), "suppression_enrolled")
    end = run.spec.steps
    arms = {
        "staff_led": (run.arm(STAFF_LED), run.arm("careqic"), "CaReQIC minus staff-led"),
        "tokenistic": (run.arm("tokenistic"), run.arm("partnership"),
                       "partnership minus tokenistic"),
    }  # fmt: skip
    checks = {}
    for against, (a, b, words) in arms.items():
        for name, (column, what) in OUTCOMES.items():
            key = f"{name}_vs_{against}"
            checks[key] = claim(
                s,
                f"{words.split(' minus ')[0]} does better than {words.split(' minus ')[1]}: "
                f"{what.split(' (')[0]}",
                f"{what} in week {end}, {words}",
                contrast(column, a, b)(runs),
                "above",
                margin(key),
            )
    a, b, words = arms["staff_led"]
    checks["all_suppression_vs_staff_led"] = claim(
        s,
        "CaReQIC does better than staff-led: viral suppression among everyone enrolled",
        f"viral suppression among all enrolled (share) in week {end}, {words}",
        contrast("suppression_enrolled", a, b)(runs),
        "above",
        margin("all_suppression_vs_staff_led"),
    )
    return checks


FACT = Fact(
    id="cascade",
    number=None,
    title="The care cascade among key populations",
    statement=(
        "What coproduction does to viral suppression and retention in care among the key "
        "populations, in percentage points and in people: CaReQIC against staff-led "
        "improvement, and partnership against tokenism."
    ),
    spec=SPEC,
    checks=checks,
    name="Care cascade",
    panels=(
        ("series:key_suppression_enrolled", ("scenario",)),
        ("series:key_retention", ("scenario",)),
        ("key_suppressed", ("scenario",)),
    ),
)
