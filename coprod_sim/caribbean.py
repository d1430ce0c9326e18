"""The CaReQIC collaborative: the structure behind the default scenario.

CaReQIC (Caribbean Regional Quality Improvement Collaborative) ran 26 HIV-care
improvement teams with people living with HIV as community representatives,
key populations deliberately included (Bluemer-Miroite et al., *Glob Health
Sci Pract* 2022;10(3):e2100390).

What comes from the evaluation: the number of teams per country, the patient
groups named (sex workers, people living unhoused, men who have sex with men,
transgender people), and the kind of changes the teams made (names off
sign-in sheets, no waiting where others could harass, longer pharmacy hours),
which staff had not thought of. The top complaints about Caribbean HIV care
(confidentiality, waiting time, stigma) shape the aspects of care.

What is assumed (no published figure exists): patients and providers per
site, the group shares, each group's priorities over aspects of care, its
trust deficit, the stigma it meets (stigma_factor) and how easily staff reach
its members (reachability), staff assumptions and baseline quality. They are
illustrative and meant to be varied; see docs/ODD.md, section 6 (input data).
"""

from __future__ import annotations

#: Aspects of care that a change can improve, with what kind of change improves each and
#: which part of the care cascade it drives (see ``mechanisms.cascade``). "experience":
#: what patients meet at the clinic, which decides whether they come and stay; the other
#: three are CaReQIC's clinical drivers of viral suppression (return to care and retention,
#: adherence, lab monitoring). Organisational changes are decided for a whole clinic
#: (names off the sign-in sheet, pharmacy hours); practice changes are ways of working that
#: spread provider by provider (respectful care, adherence counselling).
ASPECT_ROLES = {
    "confidentiality": {"kind": "organisational", "drives": "experience"},
    "safe_waiting": {"kind": "organisational", "drives": "experience"},
    "opening_hours": {"kind": "organisational", "drives": "experience"},
    "respectful_care": {"kind": "practice", "drives": "experience"},
    "waiting_time": {"kind": "organisational", "drives": "experience"},
    "adherence_support": {"kind": "practice", "drives": "adherence"},  # counselling
    "lab_monitoring": {"kind": "organisational", "drives": "lab_monitoring"},  # VL tests
    "tracing": {"kind": "organisational", "drives": "retention"},  # reminders, tracing
}
ASPECTS = tuple(ASPECT_ROLES)

#: What staff assume matters (the NHS outpatient example: waits and staffing; and the
#: clinical drivers staff are trained to watch).
STAFF_ASSUMPTIONS = {
    "confidentiality": 0.08,
    "safe_waiting": 0.04,
    "opening_hours": 0.06,
    "respectful_care": 0.07,
    "waiting_time": 0.35,
    "adherence_support": 0.15,
    "lab_monitoring": 0.15,
    "tracing": 0.10,
}

#: How well each aspect is done before the collaborative, from 0 to 1. Lab monitoring is
#: low: in Jamaica only 13% of people starting treatment had a first viral-load test before
#: Treat All (Cushnie et al. 2021).
BASELINE_QUALITY = {
    "confidentiality": 0.35,
    "safe_waiting": 0.35,
    "opening_hours": 0.45,
    "respectful_care": 0.45,
    "waiting_time": 0.55,
    "adherence_support": 0.50,
    "lab_monitoring": 0.20,
    "tracing": 0.35,
}


def careqic_groups() -> list[dict]:
    """Patient groups: people living with HIV in general and four key populations."""
    return [
        {
            "name": "general",
            "label": "People living with HIV (general)",
            "key_population": False,
            "trust_deficit": 0.0,
            "stigma_factor": 0.6,
            "reachability": 1.0,
            "what_matters": {
                "confidentiality": 0.28,
                "safe_waiting": 0.08,
                "opening_hours": 0.14,
                "respectful_care": 0.20,
                "waiting_time": 0.20,
                "adherence_support": 0.04,
                "lab_monitoring": 0.03,
                "tracing": 0.03,
            },
        },
        {
            "name": "msm",
            "label": "Men who have sex with men",
            "key_population": True,
            "trust_deficit": 0.15,
            "stigma_factor": 1.2,
            "reachability": 0.3,
            "what_matters": {
                "confidentiality": 0.32,
                "safe_waiting": 0.20,
                "opening_hours": 0.10,
                "respectful_care": 0.25,
                "waiting_time": 0.05,
                "adherence_support": 0.032,
                "lab_monitoring": 0.024,
                "tracing": 0.024,
            },
        },
        {
            "name": "sex_workers",
            "label": "Sex workers",
            "key_population": True,
            "trust_deficit": 0.2,
            "stigma_factor": 1.3,
            "reachability": 0.2,
            "what_matters": {
                "confidentiality": 0.25,
                "safe_waiting": 0.15,
                "opening_hours": 0.30,
                "respectful_care": 0.20,
                "waiting_time": 0.05,
                "adherence_support": 0.02,
                "lab_monitoring": 0.015,
                "tracing": 0.015,
            },
        },
        {
            "name": "transgender",
            "label": "Transgender people",
            "key_population": True,
            "trust_deficit": 0.25,
            "stigma_factor": 1.4,
            "reachability": 0.15,
            "what_matters": {
                "confidentiality": 0.20,
                "safe_waiting": 0.25,
                "opening_hours": 0.08,
                "respectful_care": 0.35,
                "waiting_time": 0.04,
                "adherence_support": 0.032,
                "lab_monitoring": 0.024,
                "tracing": 0.024,
            },
        },
        {
            "name": "unhoused",
            "label": "People living unhoused",
            "key_population": True,
            "trust_deficit": 0.2,
            "stigma_factor": 1.2,
            "reachability": 0.15,
            "what_matters": {
                "confidentiality": 0.10,
                "safe_waiting": 0.15,
                "opening_hours": 0.22,
                "respectful_care": 0.25,
                "waiting_time": 0.08,
                "adherence_support": 0.08,
                "lab_monitoring": 0.06,
                "tracing": 0.06,
            },
        },
    ]


def _shares(general: float, msm: float, sex_workers: float, transgender: float) -> dict:
    unhoused = round(1.0 - general - msm - sex_workers - transgender, 10)
    return {
        "general": general,
        "msm": msm,
        "sex_workers": sex_workers,
        "transgender": transgender,
        "unhoused": unhoused,
    }


def careqic_sites() -> list[dict]:
    """26 teams: Jamaica 20, Suriname 3, Trinidad & Tobago 2, Barbados 1 (8,300 patients)."""
    return [
        {
            "name": "Jamaica",
            "count": 20,
            "patients": 320,
            "providers": 10,
            "group_shares": _shares(0.70, 0.12, 0.07, 0.04),
        },
        {
            "name": "Suriname",
            "count": 3,
            "patients": 300,
            "providers": 9,
            "group_shares": _shares(0.75, 0.10, 0.08, 0.02),
        },
        {
            "name": "Trinidad & Tobago",
            "count": 2,
            "patients": 350,
            "providers": 10,
            "group_shares": _shares(0.72, 0.13, 0.06, 0.04),
        },
        {
            "name": "Barbados",
            "count": 1,
            "patients": 300,
            "providers": 8,
            "group_shares": _shares(0.74, 0.12, 0.05, 0.03),
        },
    ]
