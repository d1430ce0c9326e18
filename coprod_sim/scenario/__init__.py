"""One typed object holding every parameter of the model, read from and written to TOML.

A :class:`Scenario` is validated when it is built: unknown keys, wrong types,
out-of-range values and inconsistent settings are refused with a
:class:`~coprod_sim.errors.ScenarioError` that names each field, the value and
what is allowed. Writing a scenario to TOML and reading it back gives an equal
scenario (``Scenario.from_toml(s.to_toml()) == s``).

Presets live as TOML files in ``coprod_sim/presets``. A TOML file may start
from another scenario with ``extends = "careqic"`` (a preset name or a path
relative to the file); its own tables are merged into the base, key by key,
and lists (``sites``, ``groups``) replace the base's list whole. Text that
comes from no folder (an upload to the app) is read with
:func:`scenario_from_text`, and may extend a preset only.

The package has four modules; import from here, not from them:

- :mod:`~coprod_sim.scenario.schema`: the pydantic models, :class:`Scenario`,
  :class:`SiteSpec` and :class:`PatientGroup`, each field with its type, range and meaning,
  and :func:`validate` and :func:`apply_overrides`, bound to them;
- :mod:`~coprod_sim.scenario.rules`: the cross-field rules, small named checks run in order;
- :mod:`~coprod_sim.scenario.overrides`: dotted keys and ``KEY=VALUE`` parsing;
- :mod:`~coprod_sim.scenario.loading`: presets, TOML files and text, ``extends``.

Imports run one way (``make lint`` checks there are no cycles): schema uses rules and
overrides, neither of which imports schema at run time, and loading uses schema.
"""

from coprod_sim.errors import Problem, ScenarioError
from coprod_sim.scenario.loading import (
    load_scenario,
    preset_names,
    preset_summary,
    scenario_from_text,
)
from coprod_sim.scenario.overrides import parse_value
from coprod_sim.scenario.rules import (
    MAX_PATIENTS,
    MAX_PROVIDERS,
    MAX_SITES,
    MAX_TIES,
    RULES,
    SHARE_TOLERANCE,
    consistency_problems,
    provider_ties,
)
from coprod_sim.scenario.schema import (
    Identifier,
    InconsistentScenarioError,
    PatientGroup,
    Scenario,
    Share,
    SiteSpec,
    Weight,
    apply_overrides,
    site_names,
    validate,
)

__all__ = [
    "MAX_PATIENTS",
    "MAX_PROVIDERS",
    "MAX_SITES",
    "MAX_TIES",
    "RULES",
    "SHARE_TOLERANCE",
    "Identifier",
    "InconsistentScenarioError",
    "PatientGroup",
    "Problem",
    "Scenario",
    "ScenarioError",
    "Share",
    "SiteSpec",
    "Weight",
    "apply_overrides",
    "consistency_problems",
    "load_scenario",
    "parse_value",
    "preset_names",
    "preset_summary",
    "provider_ties",
    "scenario_from_text",
    "site_names",
    "validate",
]
