"""The largest inputs accepted: sizes one machine (2 cores, 24 GiB) can build, run and start.

Every accepted scenario and spec has a bounded cost. These limits are chosen so that one model
needs at most a few GiB, because a sweep runs one model per core and the app runs several at
once; anything larger is refused before it is built, with a message that says why. The
numbers beside each limit were measured on that machine (peak RSS from
``resource.getrusage``, a careqic-like scenario, NumPy 2, networkx 3):

* a patient costs about 340 bytes at the peak of building and running a model
  (10M patients: 3.3 GiB, 14 s to build, 1.2 s a week; 1M: 0.35 GiB, 1.1 s, 0.05 s a week);
* a provider about 1 KiB with a 4-tie small world (1M providers in 100 sites: 1.3 GiB,
  20 s to build, 2.6 s a week);
* a tie between providers about 100 bytes (20M ties of complete networks: 1.9 GiB, 15 s to
  build); a small world costs more while networkx builds it (150-250 bytes and 4-7 µs a tie);
* a site about 0.25 ms a week of Python work (10,000 sites of 10 patients: 2.5 s a week);
* a scenario's validation about 0.2 ms (so a spec checks a few thousand points a second).
"""

from __future__ import annotations

#: Patients in a whole collaborative: about 1.7 GiB for one model at the limit.
MAX_PATIENTS = 5_000_000
#: Patients at one site (an entry's ``patients``).
MAX_SITE_PATIENTS = MAX_PATIENTS
#: Providers in a whole collaborative: about 0.7 GiB, 10 s to build and 1.3 s a week.
MAX_PROVIDERS = 500_000
#: Providers at one site (an entry's ``providers``).
MAX_SITE_PROVIDERS = 100_000
#: Sites in a whole collaborative: about 0.25 s a week of per-site work at the limit.
MAX_SITES = 1_000
#: Ties between providers, within and across sites (counted before dropping repeats): about
#: 0.4 GiB and up to 18 s to build at the limit. Measured: 5M small-world ties over 10 sites
#: of 50,000 providers took 0.8 GiB and 36 s (networkx, about 7 µs a tie); 5M over one site
#: of 100,000 providers 1.3 GiB and 20 s. A complete network over a site of n providers has
#: n(n-1)/2 ties, so a complete network is for sites of up to about 2,200 providers.
MAX_TIES = 2_500_000
#: Aspects of care (keys of ``staff_assumptions``): one column each in several arrays.
MAX_ASPECTS = 100

#: Weeks of one run: 100 years. A week of careqic costs about 2 ms, so 5,200 weeks take
#: about 11 s at a flat cost per week; the largest model allowed takes about 1.5 s a week.
MAX_STEPS = 5_200

#: Design points of a spec (across its scenarios): each is a Point (about 0.5 KiB), a row
#: of the design table and a scenario id; 100,000 resolve in about a second.
MAX_POINTS = 100_000
#: Runs of a spec (points × replications). Counted before any design is built.
MAX_RUNS = 10_000_000
#: Design points whose scenarios a spec validates one by one before anything runs (at about
#: 0.2 ms each, half a second); a larger design has its factors' values checked instead,
#: and any point still refused fails as a run, with its error kept.
MAX_CHECKED_POINTS = 2_000

#: Files in an ``extends`` chain: deeper is a mistake, not a design.
MAX_EXTENDS = 20
#: Nesting of arrays and tables in a TOML file (tomllib recurses once per level; a few
#: thousand levels end in a RecursionError). No scenario or spec needs more than 5.
MAX_NESTING = 50
#: Factors of a spec: each is a column of the design and the manifest.
MAX_FACTORS = 100
#: Named base scenarios of a spec (``[scenarios.NAME]``), each loaded and validated.
MAX_SCENARIOS = 1_000


def nesting_depth(data: object) -> int:
    """How deeply lists and tables nest in ``data`` (a scalar is 0, ``[1]`` is 1), found
    without recursion, so that depth itself cannot overflow the stack."""
    deepest = 0
    stack: list[tuple[object, int]] = [(data, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: list[object] = list(node.values())
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_NESTING:
            return deepest  # deep enough to refuse: no need to walk the rest
        stack.extend((child, depth + 1) for child in children)
    return deepest


class TooDeepError(ValueError):
    """TOML text nested more deeply than :data:`MAX_NESTING` (callers name the file)."""

    def __init__(self, depth: int | None) -> None:
        self.depth = depth
        shown = f"{depth} levels" if depth is not None else "thousands of levels"
        super().__init__(
            f"nests arrays or tables {shown} deep; at most {MAX_NESTING} are allowed "
            f"(no scenario or spec needs more than 5)"
        )


def loads_toml(text: str) -> dict:
    """``tomllib.loads``, refusing nesting deeper than :data:`MAX_NESTING` with a
    :class:`TooDeepError` (tomllib recurses once per level, so thousands of levels would
    end in a RecursionError, here or in whatever walks the data next)."""
    import tomllib

    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise TooDeepError(None) from None
    depth = nesting_depth(data)
    if depth > MAX_NESTING:
        raise TooDeepError(depth)
    return data
