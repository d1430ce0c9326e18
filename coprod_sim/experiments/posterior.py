"""Parameter uncertainty in sweeps and comparisons: draws from a calibration's posterior.

A spec with ``posterior = "DIR"`` (or ``coprod compare --posterior DIR``) reads
``DIR/posterior.parquet``, written by ``coprod calibrate``: one row per particle, a
column per fitted parameter, and its ``weight``. Replication :math:`r` of every design point
runs on the same draw :math:`\\theta_r` (particles resampled by weight, with the spec's seed)
and the same seed, so designs stay paired on both, and the spread over replications is that
of the parameters as well as of chance: intervals include parameter uncertainty.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from coprod_sim.errors import Problem

POSTERIOR_FILE = "posterior.parquet"
#: The key of the posterior's metadata (written by coprod_sim.calibration).
META_KEY = b"coprod_sim"


def posterior_meta(parameters: list[str], targets: list[str], fingerprint: str) -> dict:
    """The schema metadata a posterior file carries, so a reader knows its parameters."""
    text = json.dumps({"parameters": parameters, "targets": targets, "fingerprint": fingerprint})
    return {META_KEY: text.encode()}


def read_posterior(folder: str | Path, where: str = "posterior") -> tuple[pa.Table, list[str]]:
    """The posterior table of a calibration folder and its parameter names, or a list with
    the :class:`~coprod_sim.errors.Problem` that stops it being read."""
    path = Path(folder) / POSTERIOR_FILE
    if not path.is_file():
        raise PosteriorError(
            Problem(where, str(folder), f"has no {POSTERIOR_FILE}; give a coprod calibrate folder")
        )
    try:
        table = pq.read_table(path, page_checksum_verification=True)
        meta = json.loads((table.schema.metadata or {})[META_KEY])
        parameters = list(meta["parameters"])
    except (OSError, KeyError, ValueError, pa.ArrowException) as error:
        raise PosteriorError(
            Problem(where, str(folder), f"{POSTERIOR_FILE} cannot be read ({error})")
        ) from None
    missing = [c for c in (*parameters, "weight") if c not in table.column_names]
    weights = table.column("weight").to_numpy() if not missing else None
    if missing or not parameters:
        raise PosteriorError(
            Problem(where, str(folder), f"{POSTERIOR_FILE} lacks the columns {missing}")
        )
    if not (np.all(np.isfinite(weights)) and np.all(weights >= 0) and weights.sum() > 0):
        raise PosteriorError(
            Problem(where, str(folder), f"{POSTERIOR_FILE} has weights that are not a distribution")
        )
    return table, parameters


def posterior_draws(table: pa.Table, parameters: list[str], n: int, seed: int) -> list[dict]:
    """``n`` particles resampled by weight, reproducibly from ``seed``: one per replication."""
    weights = table.column("weight").to_numpy().astype(float)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x9057]))
    chosen = rng.choice(len(weights), size=n, p=weights / weights.sum())
    columns = {name: table.column(name).to_numpy().astype(float) for name in parameters}
    return [{name: float(columns[name][k]) for name in parameters} for k in chosen]


def file_sha256(folder: str | Path) -> str:
    return hashlib.sha256((Path(folder) / POSTERIOR_FILE).read_bytes()).hexdigest()


class PosteriorError(Exception):
    """A posterior that cannot be used; ``problem`` says why."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem


def describe(source: dict[str, Any] | None) -> str:
    """The label of intervals that include parameter uncertainty, or ''."""
    if not source:
        return ""
    return (
        f"each replication on its own draw from the posterior in {source['path']}: "
        "intervals include parameter uncertainty"
    )
