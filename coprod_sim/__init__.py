"""coprod_sim: agent-based models of coproduction in health-care improvement.

Patients (the most marginalised included), providers and managers improve
care together in a collaborative of sites. The model explores how trust,
power sharing and the inclusion of marginalised voices shape which changes
are made, how widely they are taken up, whom they serve and whether they last.

>>> from coprod_sim import CoproductionModel
>>> model = CoproductionModel.from_scenario("careqic", rng=42)
>>> model.run_for(78)
>>> model.outputs.collaborative()[["week", "changes_adopted", "equity_gap"]].tail(1)
"""

from importlib.metadata import PackageNotFoundError, version

from coprod_sim.agents import Manager, Patient, Provider
from coprod_sim.errors import InputError, Problem, ScenarioError
from coprod_sim.model import CoproductionModel
from coprod_sim.scenario import Scenario, load_scenario, preset_names, scenario_from_text

try:
    __version__ = version("coprod-sim")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "CoproductionModel",
    "InputError",
    "Manager",
    "Patient",
    "Problem",
    "Provider",
    "Scenario",
    "ScenarioError",
    "__version__",
    "load_scenario",
    "preset_names",
    "scenario_from_text",
]
