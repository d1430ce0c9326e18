"""The calibration's log of simulations: every particle simulated, kept on disk as it finishes.

Each simulation is written once, keyed by its generation and index, to a Parquet part in
``simulations/`` (``part-NNNNNN.parquet``, written to ``*.tmp``, synced and renamed, with
page checksums). Because a particle's parameters and seed follow from its key (see
:mod:`~coprod_sim.calibration.sampler`), a calibration killed at any moment resumes by
reading this log: what was simulated is read back, not run again, and nothing is counted
twice. A leftover ``*.tmp`` is removed; a part that cannot be read whole is moved to
``quarantine/`` and its simulations run again (they give the same values).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from coprod_sim.calibration.simulation import SimulationResult
from coprod_sim.experiments.parts import part_number, write_table

SIMULATIONS = "simulations"
QUARANTINE = "quarantine"
#: The columns every part has, before the parameters and the targets.
KEYS = ("generation", "index", "seed")


class SimulationLog:
    """The simulations of one calibration folder, in memory and in ``simulations/``."""

    def __init__(self, folder: Path, parameters: list[str], targets: list[str]) -> None:
        self.path = folder / SIMULATIONS
        self.parameters, self.targets = parameters, targets
        self.results: dict[tuple[int, int], SimulationResult] = {}
        self.set_aside: list[str] = []
        self._pending: list[SimulationResult] = []
        self._next = 0

    def open(self) -> SimulationLog:
        """Read what earlier sessions wrote (removing half-written files)."""
        self.path.mkdir(parents=True, exist_ok=True)
        for tmp in self.path.glob("*.tmp"):
            tmp.unlink(missing_ok=True)
        for part in sorted(self.path.glob("part-*.parquet")):
            self._next = max(self._next, part_number(part) + 1)
            try:
                table = pq.read_table(part, page_checksum_verification=True)
                missing = set(self._columns()) - set(table.column_names)
                if missing:
                    raise ValueError(f"lacks the columns {sorted(missing)}")
            except (OSError, ValueError, pa.ArrowException) as error:
                self._quarantine(part, error)
                continue
            for row in table.to_pylist():
                result = self._result(row)
                self.results.setdefault((result.generation, result.index), result)
        return self

    def __len__(self) -> int:
        return len(self.results)

    def get(self, generation: int, index: int) -> SimulationResult | None:
        return self.results.get((generation, index))

    def count_before(self, generation: int) -> int:
        """ABC-SMC's simulations logged before ``generation``: the prior sample (generation
        -1) and the generations from 0 (posterior-predictive draws are counted apart)."""
        return sum(1 for g, _ in self.results if -1 <= g < generation)

    def count_abc(self) -> int:
        """ABC-SMC's simulations logged in all."""
        return sum(1 for g, _ in self.results if g >= -1)

    def add(self, result: SimulationResult) -> None:
        key = (result.generation, result.index)
        if key not in self.results:
            self.results[key] = result
            self._pending.append(result)

    @property
    def unwritten(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        """Write what was added since the last flush as one part."""
        if not self._pending:
            return
        rows = [self._row(result) for result in self._pending]
        table = pa.Table.from_pylist(rows, schema=self._schema())
        write_table(self.path / f"part-{self._next:06d}.parquet", table)
        self._next += 1
        self._pending = []

    def table(self) -> pa.Table:
        """Every simulation logged, ordered by generation and index."""
        rows = [self._row(self.results[key]) for key in sorted(self.results)]
        return pa.Table.from_pylist(rows, schema=self._schema())

    # -- rows ----------------------------------------------------------------------------
    def _columns(self) -> list[str]:
        return [*KEYS, *self.parameters, *self.targets, "error", "seconds"]

    def _schema(self) -> pa.Schema:
        fields = [pa.field(k, pa.int64()) for k in KEYS]
        fields += [pa.field(name, pa.float64()) for name in (*self.parameters, *self.targets)]
        fields += [pa.field("error", pa.string()), pa.field("seconds", pa.float64())]
        return pa.schema(fields)

    def _row(self, result: SimulationResult) -> dict:
        return {
            "generation": result.generation,
            "index": result.index,
            "seed": result.seed,
            **{name: result.parameters[name] for name in self.parameters},
            **{name: result.summaries.get(name) for name in self.targets},
            "error": result.error,
            "seconds": result.seconds,
        }

    def _result(self, row: dict) -> SimulationResult:
        return SimulationResult(
            row["generation"],
            row["index"],
            row["seed"],
            {name: row[name] for name in self.parameters},
            {} if row["error"] else {name: row[name] for name in self.targets},
            row["error"],
            row["seconds"],
        )

    def _quarantine(self, part: Path, error: Exception) -> None:
        aside = self.path.parent / QUARANTINE
        aside.mkdir(exist_ok=True)
        with contextlib.suppress(OSError):
            os.replace(part, aside / part.name)
            with open(aside / "reasons.txt", "a", encoding="utf-8") as reasons:
                reasons.write(f"{SIMULATIONS}/{part.name}: {error}\n")
        self.set_aside.append(f"{part.name}: {error}")
