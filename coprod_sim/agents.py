"""Patients, providers and managers as Mesa agents.

The agents are views: their state lives in the model's arrays (see
``population``), where the vectorised submodels update everyone at once.
Reading an attribute of an agent reads the array; the agents stay usable
with Mesa's tools, e.g. ``model.agents_by_type[Patient].select(lambda p: p.in_care)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from coprod_sim.model import CoproductionModel


class Patient(mesa.Agent):
    """A patient of one site's clinic, in one patient group.

    A representative is a patient who sits on the site's improvement team.
    """

    def __init__(self, model: CoproductionModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def site(self) -> int:
        return int(self.model.patients.site[self.index])

    @property
    def group(self) -> str:
        return self.model.group_names[self.model.patients.group[self.index]]

    @property
    def provider(self) -> Provider:
        return self.model.provider_agents[self.model.patients.provider[self.index]]

    @property
    def trust(self) -> float:
        """Trust in providers, (r + 2a)/(r + s + 2), a the patient's base rate: their group's
        history, drifting slowly toward their own experience (``trust``)."""
        return float(self.model.patients.trust(self.index))

    @property
    def in_care(self) -> bool:
        return bool(self.model.patients.in_care[self.index])

    @property
    def is_representative(self) -> bool:
        return bool(self.model.patients.representative[self.index])

    @property
    def felt_stigma(self) -> float:
        """Their provider's stigma toward their group."""
        p = self.model.patients
        return float(self.model.providers.stigma[p.provider[self.index], p.group[self.index]])


class Provider(mesa.Agent):
    """A clinician at one site; some sit on the site's improvement team."""

    def __init__(self, model: CoproductionModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def site(self) -> int:
        return int(self.model.providers.site[self.index])

    @property
    def on_team(self) -> bool:
        return bool(self.model.providers.on_team[self.index])

    @property
    def regard(self) -> float:
        """Regard for (trust in) patients, (r + 2a)/(r + s + 2), a = initial_regard."""
        return float(self.model.providers.regard(self.index))

    @property
    def stigma(self) -> dict[str, float]:
        """Stigma toward each patient group."""
        row = self.model.providers.stigma[self.index]
        return dict(zip(self.model.group_names, row.tolist(), strict=True))

    @property
    def changes_in_use(self) -> list[int]:
        ch = self.model.changes
        return sorted(ch.slot_change[(ch.slot_provider == self.index) & ch.adopted].tolist())


class Manager(mesa.Agent):
    """A site's manager: chairs the improvement team and backs (or not) the work."""

    def __init__(self, model: CoproductionModel, site: int) -> None:
        super().__init__(model)
        self._site = site

    @property
    def site(self) -> int:
        return self._site

    @property
    def authority_support(self) -> float:
        return self.model.settings.authority_support
