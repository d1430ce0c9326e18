"""The CaReQIC case: the evaluation's qualitative pattern, each claim a contrast.

The arms are the spec's scenarios labelled ``careqic``, ``unanswered`` (its input never
reported back) and ``staff_led``. Every check compares CaReQIC with the staff-led
collaborative or with itself unanswered; none is a comparison with zero, so each can fail.
The aspects staff had not thought of are those the staff-led scenario's
``staff_assumptions`` weight below an even share.
"""

from __future__ import annotations

from coprod_sim.scenario import Scenario
from coprod_sim.validation.checks import Check, claim
from coprod_sim.validation.facts.common import STAFF_LED, Fact, StudyData, contrast

SPEC = "careqic_case"
CAREQIC, UNANSWERED = "careqic", "unanswered"


def unthought_aspects(scenario: Scenario) -> list[str]:
    """Aspects of care staff weight below an even share: what they had not thought of."""
    weights = scenario.staff_assumptions
    even = sum(weights.values()) / len(weights)
    return [aspect for aspect, weight in weights.items() if weight < even]


def checks(data: StudyData) -> dict[str, Check]:
    margin = data.spec(SPEC).margin  # each claim's minimum important effect
    run, s = data.spec(SPEC), "CaReQIC case"
    careqic, unanswered, staff_led = run.arm(CAREQIC), run.arm(UNANSWERED), run.arm(STAFF_LED)
    aspects = run.value("staff_assumptions", [STAFF_LED], read=unthought_aspects)
    every_aspect = run.value("staff_assumptions", read=lambda scenario: scenario.aspects)
    runs = data.runs(
        SPEC,
        "stigma_key",
        "provider_regard",
        "patient_trust",
        "patient_originated",
        "representative_trust",
        "value",
        *(f"adopted_{a}" for a in every_aspect),
    )
    end = data.spec(SPEC).spec.steps
    adopted_columns = [c for c in runs.columns if c in {f"adopted_{a}" for a in every_aspect}]
    adopted = runs[adopted_columns].sum(axis=1)
    runs = runs.assign(
        unthought_share=runs[[f"adopted_{a}" for a in aspects]].sum(axis=1) / adopted
    )
    return {
        "input_used": claim(
            s,
            "patient input is used: answered representatives keep bringing changes",
            "patient-originated changes adopted, CaReQIC minus the same collaborative with "
            "input never reported back",
            contrast("patient_originated", unanswered, careqic)(runs),
            "above",
            margin("input_used"),
        ),
        "input_valued": claim(
            s,
            "patient input is valued",
            "representatives' trust in providers at the end, CaReQIC minus the same "
            "collaborative with their input never reported back",
            contrast("representative_trust", unanswered, careqic)(runs),
            "above",
            margin("input_valued"),
            kind="mechanism",
            rule="feedback: input reported back is a good experience, unanswered input a bad one",
        ),
        "value": claim(
            s,
            "…and care is worth more to patients",
            "value of care to patients (0–1), CaReQIC minus staff-led",
            contrast("value", staff_led, careqic)(runs),
            "above",
            margin("value"),
        ),
        "unthought": claim(
            s,
            "changes staff had not thought of",
            f"share of adopted changes in aspects staff rate low ({', '.join(aspects)}), "
            "CaReQIC minus staff-led",
            contrast("unthought_share", staff_led, careqic)(runs),
            "above",
            margin("unthought"),
        ),
        "stigma_further": claim(
            s,
            "stigma falls more than without patient partners",
            f"providers' stigma toward key populations in week {end}, CaReQIC minus staff-led",
            contrast("stigma_key", staff_led, careqic)(runs),
            "below",
            margin("stigma_further"),
        ),
        "empathy_further": claim(
            s,
            "empathy grows more than without patient partners",
            f"providers' regard for patients in week {end}, CaReQIC minus staff-led",
            contrast("provider_regard", staff_led, careqic)(runs),
            "above",
            margin("empathy_further"),
        ),
        "trust_further": claim(
            s,
            "patients' trust grows more than without patient partners",
            f"patients' trust in providers in week {end}, CaReQIC minus staff-led",
            contrast("patient_trust", staff_led, careqic)(runs),
            "above",
            margin("trust_further"),
        ),
    }


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
