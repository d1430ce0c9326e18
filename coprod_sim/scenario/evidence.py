"""The parameter table: each scenario field's unit, plausible range and source.

Every field of :class:`~coprod_sim.scenario.Scenario`, :class:`~coprod_sim.scenario.SiteSpec`,
:class:`~coprod_sim.scenario.PatientGroup` and :class:`~coprod_sim.scenario.AspectRole` has an
entry here: what it is measured in, the range of values a reader could defend, and the source
of the default and range, or the word "assumption" where none was found (with what the
assumption leans on). The ranges are what sensitivity analysis and calibration draw from;
``docs/parameters.md`` is generated from this table and the fields' descriptions
(``coprod parameters``).

A field that is a choice rather than a quantity (a name, a rule, a switch) has no range:
its plausible values are the values it allows.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Evidence:
    """What one field is measured in, its plausible range and where they come from."""

    unit: str
    low: float | None = None  # plausible range; None for a choice, a name or a structure
    high: float | None = None
    source: str = "assumption"

    @property
    def plausible(self) -> tuple[float, float] | None:
        return None if self.low is None or self.high is None else (self.low, self.high)


def entry(
    unit: str, low: float | None = None, high: float | None = None, source: str = "assumption"
) -> Evidence:
    """One row of the table."""
    return Evidence(unit, low, high, source)


CHOICE = "choice"
SHARE = "share (0-1)"
CHANCE = "probability"
WEEKLY = "probability per week"
WEEKS = "weeks"
RATIO = "ratio (1 = no effect)"
LOG_ODDS = "log-odds"

CARIBBEAN = "Bluemer-Miroite et al. 2022 (CaReQIC)"
BTS = "IHI Breakthrough Series (Kilo 1998): 6-15 months, about 3 learning sessions"

#: Scenario fields, in the schema's order.
SCENARIO: dict[str, Evidence] = {
    "name": entry("text", source="a label"),
    "description": entry("text", source="a label"),
    # --- structure ---
    "sites": entry(
        "table",
        source=f"{CARIBBEAN}: 26 teams (Jamaica 20, Suriname 3, Trinidad & "
        "Tobago 2, Barbados 1); patients and providers per site are assumptions",
    ),
    "groups": entry(
        "table",
        source=f"{CARIBBEAN} names the key populations; their parameters "
        "are assumptions (see PatientGroup)",
    ),
    "share_variation": entry("coefficient of variation", 0.0, 0.5),
    "staff_assumptions": entry(
        "weights (normalised)",
        source="assumption; Serrao et al. 2020 (NHS "
        "outpatient staff expected complaints about waits and staffing)",
    ),
    "baseline_quality": entry(
        SHARE,
        source="assumption; lab monitoring low: Cushnie et al. 2021 "
        "(13% had a first viral-load test before Treat All)",
    ),
    "aspect_roles": entry(
        CHOICE,
        source=f"{CARIBBEAN} (the four drivers; names off sign-in "
        "sheets, pharmacy hours as clinic-wide changes)",
    ),
    # --- the collaborative ---
    "support_weeks": entry(WEEKS, 26, 65, BTS),
    "learning_sessions": entry("sessions", 2, 4, BTS),
    "meeting_interval": entry(WEEKS, 2, 8, f"{CARIBBEAN}: most teams met at least monthly"),
    "meetings_after_support": entry(CHOICE),
    "changes_shared": entry("changes", 0, 5, "assumption; BTS: all teach, all learn"),
    # --- the team and voice ---
    "team_size": entry("members", 3, 12, "Fay et al. 2000 (5 vs 10); IHI: about 3 attend sessions"),
    "representative_seats": entry(
        "seats", 0, 4, f"{CARIBBEAN}: people living with HIV on each team"
    ),
    "inclusion": entry(CHOICE, source=f"{CARIBBEAN}; Ocloo & Matthews 2016"),
    "speaking_turns": entry("turns", 3, 8, "assumption; Fay et al. 2000 (dialogue vs monologue)"),
    "ground_rules": entry(
        CHOICE, source=f"{CARIBBEAN}: separate preparatory sessions, ground rules"
    ),
    "staff_voice": entry(CHANCE, 0.7, 1.0),
    "voice_base": entry(LOG_ODDS, -2.0, 2.0, "assumption; Edmondson 1999"),
    "voice_trust": entry(LOG_ODDS, 1.0, 8.0, "assumption; Edmondson 1999"),
    "voice_safety": entry(LOG_ODDS, 1.0, 8.0, "assumption; Edmondson 1999"),
    "voice_stigma": entry(LOG_ODDS, 1.0, 6.0, "assumption; Earnshaw & Chaudoir 2009"),
    "representative_leave_rate": entry(
        "probability per meeting", 0.02, 0.3, "assumption; Ocloo & Matthews 2016"
    ),
    "token_leave_ratio": entry(
        RATIO, 1.0, 2.0, "assumption; Kanter 1977 (tokens in skewed groups below about 15%)"
    ),
    "word_of_mouth": entry(
        "exponent",
        0.0,
        2.0,
        "assumption; Kanter 1977 and Granovetter 1978 on joining where peers do",
    ),
    # --- power sharing and feedback ---
    "power_sharing": entry(
        "rung (1-8)",
        3,
        7,
        "Arnstein 1969; Ocloo & Matthews 2016 (most involvement sits on the tokenism rungs)",
    ),
    "feedback_loop": entry(CHANCE, 0.0, 1.0, "Oxehealth; Ocloo & Matthews 2016"),
    "acknowledgement": entry(CHANCE, 0.2, 0.8, "assumption; Oxehealth (contributions valued)"),
    "tokenism_sensitivity": entry(
        CHANCE, 0.2, 0.9, "assumption; Arnstein 1969 (placation), Ocloo & Matthews 2016"
    ),
    "negotiation": entry(SHARE, 0.2, 0.8),
    # --- Allport's conditions ---
    "authority_support": entry(SHARE, 0.3, 1.0, "Allport 1954; Pettigrew & Tropp 2006"),
    "cooperation": entry(SHARE, 0.3, 1.0, "Allport 1954"),
    "common_goals": entry(SHARE, 0.3, 1.0, "Allport 1954"),
    # --- trust ---
    "initial_trust": entry(
        "trust (0-1)", 0.35, 0.75, "assumption; BMA 2022 (marginalised groups have lost trust)"
    ),
    "historical_trust": entry("trust (0-1)", 0.3, 0.7, "assumption; unset means initial_trust"),
    "history_weeks": entry(
        WEEKS,
        104,
        2600,
        "assumption; Alsan & Wanamaker 2018 (mistrust after "
        "the Tuskegee disclosure had not recovered 8 years later)",
    ),
    "trust_appraisal": entry(
        SHARE, 0.0, 0.5, "assumption; Slovic 1993 (distrust reinforces and perpetuates itself)"
    ),
    "initial_regard": entry("trust (0-1)", 0.3, 0.7),
    "trust_memory": entry(
        "weight kept per week",
        0.97,
        0.999,
        "assumption; Alsan & Wanamaker 2018 (lost trust lasts years)",
    ),
    "negativity_bias": entry(
        RATIO, 1.0, 3.0, "assumption; Slovic 1993 (trust is easier to destroy than to create)"
    ),
    "trust_prior_strength": entry("experiences", 2.0, 20.0, "assumption; Jøsang & Ismail 2002"),
    # --- stigma ---
    "initial_stigma": entry(
        "stigma (0-1)",
        0.3,
        0.7,
        "assumption; Jamaica clinic survey: 48% of "
        "health workers took extra precautions only with HIV patients",
    ),
    "stigma_spread": entry("standard deviation", 0.05, 0.25),
    "contact_rate": entry("share moved per contact", 0.05, 0.3, "assumption; Deffuant et al. 2000"),
    "contact_positivity": entry(
        CHANCE, 0.4, 0.8, "assumption; Pettigrew & Tropp 2006 (contact mostly positive)"
    ),
    "negative_contact_weight": entry(
        RATIO,
        1.5,
        3.0,
        "assumption; Barlow et al. 2012 (negative contact is the stronger predictor)",
    ),
    "contact_without_conditions": entry(
        SHARE,
        0.5,
        1.0,
        "Pettigrew & Tropp 2006: mean r = -.215 "
        "over all samples, -.287 with structured optimal "
        "conditions (ratio about 0.75)",
    ),
    "peer_latitude": entry("stigma difference", 0.1, 0.4, "assumption; Deffuant et al. 2000"),
    "peer_rate": entry("share moved per exchange", 0.0, 0.3, "assumption; Deffuant et al. 2000"),
    "stigma_harm": entry(SHARE, 0.1, 0.6),
    # --- PDSA ---
    "pdsa_cycle_weeks": entry(WEEKS, 2, 8, "Langley et al. 2009 (cycles of weeks)"),
    "pdsa_successes_to_scale": entry(
        "cycles", 1, 3, "Langley et al. 2009 (test small, then scale)"
    ),
    "pdsa_max_cycles": entry("cycles", 3, 8),
    "pdsa_capacity": entry("tests", 1, 4),
    "design_quality": entry(CHANCE, 0.3, 0.8),
    "pdsa_learning": entry(SHARE, 0.1, 0.5),
    "effect_size": entry("quality gain (0-1)", 0.1, 0.4),
    "backlog_limit": entry("ideas", 4, 16),
    # --- capability ---
    "initial_capability": entry(SHARE, 0.2, 0.8),
    "capability_reliance": entry(SHARE, 0.0, 0.8, "assumption; Repenning & Sterman 2001"),
    "capability_learning": entry(
        "share of the gap per success",
        0.01,
        0.15,
        "assumption; Repenning & Sterman 2001 (built over months)",
    ),
    "capability_decay": entry(
        "share per week",
        0.002,
        0.02,
        "assumption; Repenning & Sterman 2001 (eroded over one to two years under pressure)",
    ),
    # --- uptake ---
    "uptake_rule": entry(CHOICE, source="Bass 1969; Granovetter 1978"),
    "external_influence": entry(
        "hazard per week",
        0.005,
        0.06,
        "assumption; Sultan, Farley & Lehmann 1990 give p = 0.03 per year for products, not weeks",
    ),
    "imitation": entry(
        "hazard per week",
        0.1,
        0.8,
        "assumption; Sultan, Farley & Lehmann 1990 give q = 0.38 per year for products, not weeks",
    ),
    "threshold_mean": entry(SHARE, 0.1, 0.5, "assumption; Granovetter 1978"),
    "threshold_sd": entry("standard deviation", 0.05, 0.3, "assumption; Granovetter 1978"),
    "provider_network": entry(CHOICE, source="Watts & Strogatz 1998"),
    "within_site_ties": entry("colleagues", 2, 8),
    "rewiring": entry(CHANCE, 0.0, 0.3, "assumption; Watts & Strogatz 1998"),
    "cross_site_ties": entry("colleagues", 0, 4, "assumption; BTS (teams meet at sessions)"),
    # --- sustainment ---
    "decay_rate": entry(
        "hazard per week",
        0.005,
        0.06,
        "assumption; Wells et al. 2018 (only 8 of 64 studies measured persistence)",
    ),
    "support_reinforcement": entry(SHARE, 0.3, 1.0),
    "reversal_rate": entry("hazard per week", 0.002, 0.03),
    # --- care and the cascade ---
    "visit_rate": entry(
        WEEKLY, 0.08, 0.5, "assumption; visits and pharmacy refills every 1-3 months"
    ),
    "experience_floor": entry(CHANCE, 0.2, 0.7),
    "attendance": entry(CHANCE, 0.6, 0.9, "assumption; missed-visit rates of HIV clinics"),
    "initial_retention": entry(
        SHARE,
        0.5,
        0.85,
        "Fox & Rosen 2015 (64% retained at 36 months in "
        "Latin America and the Caribbean); Jamaica 2019: 53% of those "
        "diagnosed on treatment (Cushnie et al. 2021)",
    ),
    "dropout_rate": entry(
        "hazard per week", 0.002, 0.01, "Fox & Rosen 2015: 78% retained at 12 months on treatment"
    ),
    "return_rate": entry(
        "hazard per week",
        0.002,
        0.03,
        "East Africa: 10% of those lost back "
        "within a year without tracing, 13% with it; Tanzania: 31% of loss "
        "episodes end in a return",
    ),
    "mistrust_effect": entry(
        RATIO,
        1.5,
        6.0,
        "Bogart et al. 2010 (OR 0.60 for adherence per point "
        "of treatment conspiracy beliefs); Dale et al. 2016 (mistrust lowers "
        "adherence over 6 months)",
    ),
    "stigma_effect": entry(
        RATIO,
        1.1,
        3.0,
        "Turan et al. 2019 (AOR 0.61 for optimal adherence); "
        "CNICS 2021 (aOR 0.93 per point for keeping visits); Katz et al. 2013",
    ),
    "access_effect": entry(
        RATIO,
        1.0,
        4.0,
        "assumption; Trinidad tracing 2019: 12% missed care so "
        "as not to be seen at the clinic; Jamaica Stigma Index 2020: 30% slow to "
        "start for fear of disclosure",
    ),
    "tracing_effect": entry(
        RATIO,
        1.3,
        8.0,
        "East Africa: 10.0% vs 13.3% back within a year; "
        "Trinidad tracing programmes: 68-85% of those traced returned",
    ),
    "initial_on_treatment": entry(SHARE, 0.6, 1.0, "assumption (Treat All since 2017 in Jamaica)"),
    "initial_adherence": entry(
        SHARE, 0.6, 0.85, "Cushnie et al. 2021: viral suppression 76% -> 80% after Treat All"
    ),
    "treatment_start": entry(
        "probability per visit", 0.2, 0.9, "assumption (Treat All: same-day or rapid start)"
    ),
    "adherence_lapse_rate": entry(
        WEEKLY,
        0.004,
        0.03,
        "assumption; Bogart et al. 2010: mean adherence 68% by electronic pill monitoring",
    ),
    "adherence_counselling": entry("probability per visit", 0.2, 0.8),
    "enhanced_counselling": entry(
        CHANCE, 0.3, 0.7, "Ford et al. 2019, JIAS: 46.1% re-suppressed (Bonner et al. 2013: 70.5%)"
    ),
    "suppression_rate": entry(
        WEEKLY, 0.06, 0.25, "Walmsley et al. 2013: median 28-84 days to suppression"
    ),
    "rebound_rate": entry(
        WEEKLY, 0.12, 0.35, "Li et al. 2022 (ACTG A5345): median 22 days to rebound off treatment"
    ),
    "viral_load_interval": entry(
        WEEKS, 26, 52, "WHO 2016 consolidated guidelines: yearly; WHO 2013: CD4 every 6 months"
    ),
    # --- crisis ---
    "crisis_week": entry("week", source="a scenario choice"),
    "crisis_duration": entry(WEEKS, 4, 52, "assumption; COVID-19 service disruption (BMA 2022)"),
    "crisis_sites": entry("site or region names", source="a scenario choice"),
    "recovery": entry(CHOICE, source="Serrao et al. 2020"),
    "crisis_strain": entry(SHARE, 0.1, 0.5),
    "crisis_pressure": entry(RATIO + " minus 1", 1.0, 5.0, "assumption; Repenning & Sterman 2001"),
    # --- changes during the run ---
    "interventions": entry("weeks and settings", source="a scenario choice"),
}

SITE: dict[str, Evidence] = {
    "name": entry("text", source="a label"),
    "count": entry("sites", source=CARIBBEAN),
    "patients": entry("patients", 100, 2000, "assumption"),
    "providers": entry("providers", 5, 30, "assumption"),
    "group_shares": entry(
        SHARE,
        source="assumption; Jamaica: HIV prevalence MSM 31.4%, "
        "transgender women 25-53%, female sex workers 4.1%, adults 1.6%",
    ),
}

GROUP: dict[str, Evidence] = {
    "name": entry("text", source="a label"),
    "label": entry("text", source="a label"),
    "key_population": entry(CHOICE, source=CARIBBEAN),
    "trust_deficit": entry(
        "trust (0-1)",
        0.0,
        0.3,
        "assumption; BMA 2022; Baugher 2018 (14.1% reported discrimination in health care)",
    ),
    "stigma_factor": entry(RATIO, 0.5, 1.6, "assumption; Jamaica Stigma Index 2020"),
    "reachability": entry(
        SHARE,
        0.1,
        1.0,
        "assumption; Ocloo & Matthews 2016 (involvement rarely reaches marginalised groups)",
    ),
    "what_matters": entry(
        "weights (normalised)",
        source="assumption; Caribbean complaints: "
        "confidentiality, waiting time, stigma (Bluemer-Miroite et al. 2022)",
    ),
}

ASPECT_ROLE: dict[str, Evidence] = {
    "kind": entry(CHOICE, source=CARIBBEAN),
    "drives": entry(CHOICE, source=f"{CARIBBEAN} (the four drivers of viral suppression)"),
}


def plausible_ranges() -> dict[str, tuple[float, float]]:
    """Every numeric scenario field with a plausible range: ``{field: (low, high)}``."""
    return {name: e.plausible for name, e in SCENARIO.items() if e.plausible is not None}


# --- the table as text --------------------------------------------------------------------------
_HEADER = (
    "# Parameters\n\n"
    "Every field of a scenario: what it means, its unit, its default (the `careqic` preset's "
    "value), the range of values a reader could defend, and the source of the default and the "
    "range, or the word *assumption* where no source gives them (with what the assumption "
    "leans on). Sensitivity analysis and calibration draw from these ranges.\n\n"
    "Generated by `coprod parameters --out docs/parameters.md` from "
    "`coprod_sim/scenario/evidence.py` and the fields' descriptions in "
    "`coprod_sim/scenario/schema.py`; `tests/test_scenario.py` checks that it is current. "
    "Presets may set other values (`coprod_sim/presets/`).\n"
)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _default(info) -> str:
    """A field's default as the table shows it."""
    if info.is_required():
        return "required"
    if info.default_factory is not None:
        return "(table)"
    return "unset" if info.default is None else f"`{info.default!r}`"


def _rows(model: type, table: dict[str, Evidence]) -> list[str]:
    lines = [
        "| Field | Meaning | Unit | Default | Plausible range | Source |",
        "|---|---|---|---|---|---|",
    ]
    for name, info in model.model_fields.items():
        e = table[name]
        plausible = f"{e.low:g} to {e.high:g}" if e.plausible else "—"
        lines.append(
            f"| `{name}` | {_cell(info.description)} | {_cell(e.unit)} | {_default(info)} | "
            f"{plausible} | {_cell(e.source)} |"
        )
    return lines


def markdown() -> str:
    """The parameter table (docs/parameters.md) as Markdown."""
    from coprod_sim.scenario.schema import AspectRole, PatientGroup, Scenario, SiteSpec

    sections = [
        ("Scenario fields", Scenario, SCENARIO),
        ("Site entries (`sites`)", SiteSpec, SITE),
        ("Patient groups (`groups`)", PatientGroup, GROUP),
        ("Aspect roles (`aspect_roles`)", AspectRole, ASPECT_ROLE),
    ]
    parts = [_HEADER]
    for title, model, table in sections:
        parts.append(f"\n## {title}\n\n")
        parts.append("\n".join(_rows(model, table)) + "\n")
    return "".join(parts)
