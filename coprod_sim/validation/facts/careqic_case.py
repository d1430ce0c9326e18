"""The CaReQIC case: the evaluation's qualitative pattern against a staff-led collaborative.

The arms are the spec's scenarios labelled ``careqic``, ``unanswered`` (its input never
reported back) and ``staff_led``; the aspects staff had not thought of are those the
staff-led scenario's ``staff_assumptions`` weight below an even share.
"""

from __future__ import annotations

from coprod_sim.scenario import Scenario
from coprod_sim.validation.checks import Check, change, directional, level, per_replication
from coprod_sim.validation.facts.common import STAFF_LED, Fact, StudyData, contrast

SPEC = "careqic_case"
CAREQIC, UNANSWERED = "careqic", "unanswered"


def unthought_aspects(scenario: Scenario) -> list[str]:
    """Aspects of care staff weight below an even share: what they had not thought of."""
    weights = scenario.staff_assumptions
    even = sum(weights.values()) / len(weights)
    return [aspect for aspect, weight in weights.items() if weight < even]


def checks(data: StudyData) -> dict[str, Check]:
    run, s = data.spec(SPEC), "CaReQIC case"
    careqic, unanswered, staff_led = run.arm(CAREQIC), run.arm(UNANSWERED), run.arm(STAFF_LED)
    aspects = run.value("staff_assumptions", [STAFF_LED], read=unthought_aspects)
    every_aspect = run.value("staff_assumptions", read=lambda scenario: scenario.aspects)
    outcomes = ("stigma_key", "provider_regard", "patient_trust")
    runs = data.runs(
        SPEC,
        *outcomes,
        "patient_originated",
        "staff_originated",
        "representative_trust",
        "value",
        *(f"adopted_{a}" for a in every_aspect),
    )
    series = data.series(SPEC, *outcomes, weeks=[0])
    end = int(series["step"].max())
    # Every aspect's adoptions, summed in the table's order.
    adopted_columns = [c for c in runs.columns if c in {f"adopted_{a}" for a in every_aspect}]
    adopted = runs[adopted_columns].sum(axis=1)
    runs = runs.assign(
        unthought_share=runs[[f"adopted_{a}" for a in aspects]].sum(axis=1) / adopted,
        patient_share=runs["patient_originated"]
        / (runs["patient_originated"] + runs["staff_originated"]),
    )
    checks = {
        "input_used": directional(
            s,
            "patient input is used",
            "share of adopted changes that came from patients, CaReQIC",
            level(per_replication(runs, careqic, "patient_share")),
            "above",
        ),
        "input_valued": directional(
            s,
            "patient input is valued",
            "representatives' trust in providers at the end, CaReQIC minus the same "
            "collaborative with their input never reported back",
            contrast("representative_trust", unanswered, careqic)(runs),
            "above",
        ),
        "value": directional(
            s,
            "…and care is worth more to patients",
            "value of care to patients (0–1), CaReQIC minus staff-led",
            contrast("value", staff_led, careqic)(runs),
            "above",
        ),
        "unthought": directional(
            s,
            "changes staff had not thought of",
            f"share of adopted changes in aspects staff rate low ({', '.join(aspects)}), "
            "CaReQIC minus staff-led",
            contrast("unthought_share", staff_led, careqic)(runs),
            "above",
        ),
    }
    # Each trajectory the evaluation reports: it moves the right way under CaReQIC, and
    # further than in the staff-led collaborative.
    for name, outcome, words, direction, growing, further in (
        # Staff-led teams have no patient partners to meet, so its stigma has nothing to move
        # it: a comparison would repeat the change within CaReQIC.
        ("stigma", "stigma_key", "providers' stigma toward key populations", "below",
         "stigma falling", None),
        ("empathy", "provider_regard", "providers' regard for patients", "above",
         "empathy growing", "…empathy grows more than without patient partners"),
        ("trust", "patient_trust", "patients' trust in providers", "above", "trust growing",
         "…trust grows more than without patient partners"),
    ):  # fmt: skip
        checks[f"{name}_moves"] = directional(
            s,
            growing,
            f"change in {words}, week 0 to {end}, CaReQIC",
            level(change(series, careqic, outcome, 0, end)),
            direction,
        )
        if further:
            checks[f"{name}_further"] = directional(
                s,
                further,
                f"{words} in week {end}, CaReQIC minus staff-led",
                contrast(outcome, staff_led, careqic)(runs),
                direction,
            )
    return checks


FACT = Fact(
    id="careqic",
    number=None,
    title="The CaReQIC case against a staff-led collaborative",
    statement=(
        "The evaluation of CaReQIC reports patient input used and valued, stigma falling, "
        "empathy and trust growing, and changes staff had not thought of."
    ),
    spec=SPEC,
    checks=checks,
    panels=(
        ("series:stigma_key", ("scenario",)),
        ("series:provider_regard", ("scenario",)),
        ("series:patient_trust", ("scenario",)),
        ("patient_originated", ("scenario",)),
    ),
)
