"""The explorer's network view of one site, without a browser: what its nodes and ties
carry (checked against the model's own arrays), its legend, its refusals and its controls."""

from __future__ import annotations

import json
import time
from typing import Any

import ipyvuetify as v
import numpy as np
import pytest
import solara

from app import charts, explore, network, state
from app.network import EDGE_KINDS, KINDS, NetworkView, network_spec, site_network
from app.vega import VegaLiteLive
from coprod_sim import CoproductionModel
from coprod_sim.improvement.teams import EMPTY

pytestmark = pytest.mark.usefixtures("session")


@pytest.fixture(scope="module")
def model() -> CoproductionModel:
    """CaReQIC after ten weeks: teams have met, representatives hold seats, stigma moved."""
    built = CoproductionModel.from_scenario("careqic", rng=3)
    built.run_for(10)
    return built


def site_with_representatives(model: CoproductionModel) -> int:
    """The first site whose team has a representative seated."""
    return next(k for k in range(len(model.sites)) if model.teams.members(k)[1])


def patient_nodes(net: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in net["nodes"] if n["label"].startswith("patient ")]


def provider_nodes(net: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in net["nodes"] if n["label"].startswith("provider ")]


def number(label: str) -> int:
    """The index in a node's label ("patient 222" -> 222)."""
    return int(label.rsplit(" ", 1)[1])


def people_layers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [layer for layer in spec["layer"] if "shape" in layer["encoding"]]


def tie_layer(spec: dict[str, Any]) -> dict[str, Any]:
    (layer,) = [layer for layer in spec["layer"] if layer["mark"]["type"] == "rule"]
    return layer


# --- what the nodes carry ---------------------------------------------------------------------
def test_every_patient_node_carries_their_group_and_sits_in_its_ring(
    model: CoproductionModel,
) -> None:
    labels = [g.label for g in model.parameters.groups]
    for site in (0, 23):
        net = site_network(model, site)
        span = model.patients.at_site(site)
        patients = patient_nodes(net)
        assert [number(n["label"]) for n in patients] == list(range(span.start, span.stop))
        assert [n["group"] for n in patients] == [labels[g] for g in model.patients.group[span]]
        # Every group's patients (not on the team) sit in that group's ring, and only there.
        rings = {ring["group"]: ring for ring in net["rings"]}
        assert [ring["group"] for ring in net["rings"]] == labels  # inside out, in order
        for n in patients:
            if n["kind"] != "patient representative":
                ring = rings[n["group"]]
                assert ring["inner"] < float(np.hypot(n["x"], n["y"])) < ring["outer"], n
    # The ring colours are the explorer's fixed group palette.
    assert net["group_colours"][:3] == ["#79706e", "#4e79a7", "#e15759"]


def test_the_kinds_of_people_are_the_models_roles(model: CoproductionModel) -> None:
    site = site_with_representatives(model)
    net = site_network(model, site)
    staff, reps = model.teams.members(site)
    kinds = {n["label"]: n["kind"] for n in net["nodes"]}
    assert kinds.pop("manager") == "manager"
    span = model.providers.at_site(site)
    for i in range(span.start, span.stop):
        expected = "provider on the team" if i in staff else "provider not on the team"
        assert kinds.pop(f"provider {i}") == expected
    in_care = model.patients.in_care
    for label, kind in kinds.items():
        i = number(label)
        if i in reps:
            assert kind == "patient representative"
        else:
            assert kind == ("patient in care" if in_care[i] else "patient out of care")
    assert net["team_providers"] == len(staff) and net["representatives"] == len(reps)


def test_stigma_toward_the_chosen_group_is_the_models(model: CoproductionModel) -> None:
    site = 5
    span = model.providers.at_site(site)
    stigma = model.providers.stigma
    assert np.ptp(stigma[span], axis=0).min() > 0  # providers differ: a real comparison
    for g, group in enumerate(model.parameters.groups):
        net = site_network(model, site, "stigma", group.name)
        held = {number(n["label"]): n["value"] for n in provider_nodes(net)}
        assert held == {i: round(10 * stigma[i, g], 2) for i in range(span.start, span.stop)}
        # Patients: the stigma their provider holds toward their own group; the chosen
        # group's patients in full, the others faded.
        for n in patient_nodes(net):
            i = number(n["label"])
            provider, own = model.patients.provider[i], model.patients.group[i]
            assert n["value"] == round(10 * stigma[provider, own], 2)
            assert n.get("faded", False) == (own != g)
        assert net["group"] == group.label
        legend = value_titles(network_spec(net))
        assert f"stigma toward {group.label}, held or met (out of 10)" in legend
    # No group chosen: a provider's mean toward the key populations, and no one faded.
    net = site_network(model, site, "stigma")
    key = model.key_population
    held = [n["value"] for n in provider_nodes(net)]
    assert held == [round(10 * stigma[i, key].mean(), 2) for i in range(span.start, span.stop)]
    assert not any(n.get("faded") for n in net["nodes"] + net["edges"])


def value_titles(spec: dict[str, Any]) -> list[str]:
    """The titles of the colour legends, their lines joined."""
    titles = [
        layer["encoding"]["fill"]["title"]
        for layer in people_layers(spec)
        if "field" in layer["encoding"].get("fill", {})
    ]
    return [" ".join(t) if isinstance(t, list) else t for t in titles]


def test_trust_colouring_is_patients_trust_and_providers_regard(
    model: CoproductionModel,
) -> None:
    site = 1
    net = site_network(model, site, "trust")
    patients = model.patients.trust(model.patients.at_site(site))
    expected = np.round(10 * patients.astype(float), 2).tolist()
    assert [n["value"] for n in patient_nodes(net)] == expected
    regard = model.providers.regard(model.providers.at_site(site))
    assert [n["value"] for n in provider_nodes(net)] == np.round(10 * regard, 2).tolist()
    by_group = site_network(model, site, "group")
    assert all(n["value"] is None for n in by_group["nodes"])  # the colour is the group
    fills = [layer["encoding"].get("fill") for layer in people_layers(network_spec(by_group))]
    assert {"field": "group"}.items() <= fills[0].items()


# --- ties -------------------------------------------------------------------------------------
def contact_ties(net: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["a"], e["b"]) for e in net["edges"] if e["kind"] == "contact"}


def test_contact_ties_are_the_pairs_the_contact_mechanism_meets(
    model: CoproductionModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each provider on a site's team with each representative seated on it, from the
    # teams' own arrays (not through ``members``, which the view uses).
    teams = model.teams
    for site in range(len(model.sites)):
        seated = [int(r) for r in teams.representatives[site] if r != EMPTY]
        pairs = {(f"provider {p}", f"patient {r}") for p in teams.staff[site] for r in seated}
        net = site_network(model, site)
        assert contact_ties(net) == pairs
        nodes = {n["label"]: (n["x"], n["y"]) for n in net["nodes"]}
        for e in net["edges"]:
            if e["kind"] == "contact":  # drawn between those two people
                assert ((e["x"], e["y"]), (e["x2"], e["y2"])) == (nodes[e["a"]], nodes[e["b"]])

    # At a meeting, every pair the mechanism can move stigma for (a provider on the team and
    # a representative present) is a contact tie of that moment's view, and the ties are
    # those pairs when every representative came.
    built = CoproductionModel.from_scenario("careqic", rng=8)
    original = built.improvement._meet_as_partners
    met: list[tuple[set, set]] = []

    def meet_as_partners(attends: np.ndarray, *args: Any) -> None:
        for site in np.flatnonzero(attends.any(axis=1)):
            present = built.teams.representatives[site][attends[site]]
            used = {
                (f"provider {p}", f"patient {r}") for p in built.teams.staff[site] for r in present
            }
            met.append((used, contact_ties(site_network(built, int(site)))))
        original(attends, *args)

    monkeypatch.setattr(built.improvement, "_meet_as_partners", meet_as_partners)
    built.run_for(6)
    assert len(met) > 10, "too few meetings to check"
    assert all(used <= drawn for used, drawn in met)
    assert any(used == drawn for used, drawn in met)


def test_team_colleague_and_care_ties(model: CoproductionModel) -> None:
    site = site_with_representatives(model)
    net = site_network(model, site)
    staff, reps = model.teams.members(site)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for e in net["edges"]:
        by_kind.setdefault(e["kind"], []).append(e)
    assert set(by_kind) == set(EDGE_KINDS)
    team = {(e["a"], e["b"]) for e in by_kind["team"]}
    assert team == {("manager", f"provider {p}") for p in staff} | {
        ("manager", f"patient {r}") for r in reps
    }
    span = model.providers.at_site(site)
    graph = model.provider_network.subgraph(range(span.start, span.stop))
    colleagues = {frozenset((number(e["a"]), number(e["b"]))) for e in by_kind["colleagues"]}
    assert colleagues == {frozenset(edge) for edge in graph.edges()}
    assert len(by_kind["care"]) == net["patients"]  # every patient to their provider


# --- the legend -------------------------------------------------------------------------------
def test_the_legend_has_one_symbol_per_kind_of_person_and_of_tie(
    model: CoproductionModel,
) -> None:
    for colour_by in network.COLOURINGS:
        spec = network_spec(site_network(model, 0, colour_by))  # type: ignore[arg-type]
        layers = people_layers(spec)
        assert len(layers) == 3  # patients, providers, the manager: one shared shape scale
        shapes = [layer["encoding"]["shape"] for layer in layers]
        assert all(shape == shapes[0] for shape in shapes)
        shape = shapes[0]
        assert shape["scale"]["domain"] == list(KINDS)
        for kind in ("manager", "provider on the team", "provider not on the team"):
            assert kind in KINDS
        assert "patient representative" in KINDS and "patient in care" in KINDS
        # The legend draws each symbol in one colour: its shape alone tells the kinds apart.
        legend = shape["legend"]
        assert legend is not None and legend["symbolFillColor"]
        symbols = [(s, legend["symbolFillColor"]) for s in shape["scale"]["range"]]
        assert len(set(symbols)) == len(KINDS), symbols
        # Every drawn node has a kind with a symbol; the chart draws no other shape.
        drawn = {n["kind"] for layer in layers for n in layer["data"]["values"]}
        assert drawn <= set(KINDS)
        # Ties: colour and dash by kind, one legend (same field and title for both).
        ties = tie_layer(spec)["encoding"]
        stroke, dash = ties["stroke"], ties["strokeDash"]
        assert stroke["scale"]["domain"] == dash["scale"]["domain"] == list(EDGE_KINDS)
        assert stroke["title"] == dash["title"] == "ties"
        looks = list(zip(stroke["scale"]["range"], map(tuple, dash["scale"]["range"]), strict=True))
        assert len(set(looks)) == len(EDGE_KINDS), looks
        assert {e["kind"] for e in tie_layer(spec)["data"]["values"]} <= set(EDGE_KINDS)
        # Size makes no legend of its own (a second "who" legend of dots).
        assert all("field" not in layer["encoding"]["size"] for layer in layers)


def test_the_captions_say_the_values_in_plain_words(model: CoproductionModel) -> None:
    stigma = site_network(model, 0, "stigma", "sex_workers")
    text = network.caption(stigma)
    assert "stigma out of 10" in text and "their stigma toward Sex workers" in text
    assert "Sex workers are shown; the other groups are faded." in text
    assert "from the inside out: People living with HIV (general), Men who have sex" in text
    mean = np.mean(model.providers.stigma[model.providers.at_site(0), 2]) * 10
    assert f"{mean:.1f} out of 10" in text
    trust = network.caption(site_network(model, 0, "trust"))
    assert "trust in their providers" in trust and "out of 10" in trust and "faded" not in trust
    assert "each patient's group" in network.caption(site_network(model, 0, "group"))
    # On a projector, only what the colours mean (the legend names the rings).
    short = network.caption(stigma, short=True)
    assert short.startswith("Colour: stigma out of 10") and "rings" not in short


# --- refusals ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"site": 26}, ["site = 26", "0..25"]),
        ({"site": -1}, ["site = -1", "0..25"]),
        ({"group": "Sex workers"}, ["group = 'Sex workers'", "general, msm, sex_workers"]),
        ({"group": "sexworkers"}, ["'sexworkers'", "transgender, unhoused"]),
        ({"colour_by": "stigmas"}, ["colour_by = 'stigmas'", "trust, stigma, group"]),
    ],
)
def test_a_bad_choice_is_refused_naming_the_value_and_what_is_allowed(
    model: CoproductionModel, kwargs: dict[str, Any], words: list[str]
) -> None:
    choice = {"site": 0, **kwargs}
    with pytest.raises(ValueError) as refused:
        site_network(model, **choice)
    for word in words:
        assert word in str(refused.value)


# --- drawing ----------------------------------------------------------------------------------
def test_the_layout_is_fixed_geometry(model: CoproductionModel) -> None:
    """The same places every week and for every seed: only colours move."""
    later = CoproductionModel.from_scenario("careqic", rng=3)
    other_seed = CoproductionModel.from_scenario("careqic", rng=99)
    sites = range(len(later.sites))
    week_0 = [site_network(later, k) for k in sites]
    later.run_for(10)
    week_10 = [site_network(later, k) for k in sites]

    def places(net: dict[str, Any]) -> dict[str, tuple[float, float]]:
        return {n["label"]: (n["x"], n["y"]) for n in net["nodes"]}

    def on_team(net: dict[str, Any]) -> set[str]:
        return {n["label"] for n in net["nodes"] if n["kind"] == "patient representative"}

    changed = 0
    for k in sites:
        before, after = places(week_0[k]), places(week_10[k])
        joined_or_left = on_team(week_0[k]) ^ on_team(week_10[k])
        changed += bool(joined_or_left)
        # Only who joined or left the team moved (to the middle, or back to their ring).
        assert {p for p in before if before[p] != after[p]} == joined_or_left
        staff = [p for p in before if not p.startswith("patient")]
        assert [after[p] for p in staff] == [places(site_network(other_seed, k))[p] for p in staff]
    assert changed > 0, "no team changed in ten weeks: the test would check nothing"


def test_the_spec_is_plain_json_and_larger_for_a_projector(model: CoproductionModel) -> None:
    net = site_network(model, 0, "stigma", "msm")
    spec = network_spec(net)
    assert json.loads(json.dumps(spec, allow_nan=False)) == spec
    assert spec["usermeta"]["embedOptions"]["renderer"] == "canvas"  # the browser tests' cue
    large = network_spec(net, presenter=True)
    assert json.loads(json.dumps(large, allow_nan=False)) == large
    assert large["width"] == large["height"] == network.PRESENTER_SIDE  # square, to scale
    assert spec["width"] == spec["height"]

    def sizes(s: dict[str, Any]) -> list[int]:
        size = people_layers(s)[0]["encoding"]["size"]
        return [c["value"] for c in size["condition"]] + [size["value"]]

    assert all(b > a for a, b in zip(sizes(spec), sizes(large), strict=True))
    # Every legend's text at the presenter's size, as on every other presenter chart.
    legends = [
        channel["legend"]
        for layer in large["layer"]
        for channel in layer["encoding"].values()
        if isinstance(channel, dict) and isinstance(channel.get("legend"), dict)
    ]
    # The rings', the ties' (colour and dash), who's (one per layer of people), the value's.
    assert len(legends) == 1 + 2 + 3 + 2
    for legend in legends:
        assert legend["labelFontSize"] >= charts.PRESENTER_FONT
        assert legend["titleFontSize"] >= charts.PRESENTER_FONT
    config = large["config"]
    assert config["legend"]["labelFontSize"] == charts.PRESENTER_FONT
    assert "rule" not in config and "point" not in config  # the ties and kinds stay apart
    assert "title" not in large and "title" in spec  # on a projector the site's choice names it
    # Legends on both sides of the circle, so the chart is no taller than the screen; the
    # value's scale lies across.
    ties = tie_layer(large)["encoding"]["stroke"]["legend"]["orient"]
    assert (ties, tie_layer(spec)["encoding"]["stroke"]["legend"]["orient"]) == ("left", "right")
    fill = people_layers(large)[0]["encoding"]["fill"]["legend"]
    assert fill["direction"] == "horizontal"


def test_the_projector_caption_is_short_and_says_what_the_colours_mean(
    model: CoproductionModel,
) -> None:
    longest = max((g.label for g in model.parameters.groups), key=len)
    name = next(g.name for g in model.parameters.groups if g.label == longest)
    for colour_by in network.COLOURINGS:
        for group in (None, name):
            net = site_network(model, 0, colour_by, group)  # type: ignore[arg-type]
            short = network.caption(net, short=True)
            assert short.startswith("Colour:") and "rings" not in short
            # Two lines at most of a 1024 px screen at 18 px (about 120 characters a line).
            assert len(short) <= 230, short
            if group is not None:
                assert f"{longest} are shown; the other groups are faded." in short
    trust = network.caption(site_network(model, 0, "trust"), short=True)
    assert "out of 10" in trust and "trust" in trust


def test_drawing_a_site_is_cheap(model: CoproductionModel) -> None:
    """It is redrawn after every step, within a step-plus-redraw budget of about 200 ms."""
    times = []
    for _ in range(20):
        start = time.perf_counter()
        network_spec(site_network(model, 23, "stigma", "sex_workers"))
        times.append(time.perf_counter() - start)
    assert float(np.median(times)) < 0.02  # about 1-2 ms on this machine; 20 ms is the alarm


# --- the controls -----------------------------------------------------------------------------
def test_choosing_a_group_and_stigma_redraws_the_chart() -> None:
    model = CoproductionModel.from_scenario("careqic", rng=3)
    model.run_for(2)
    _, rc = solara.render(NetworkView(model), handle_error=False)

    def spec() -> dict[str, Any]:
        return rc.find(VegaLiteLive).widget.full_spec()  # type: ignore[attr-defined]

    def caption() -> str:
        return rc.find(v.Html, class_="network-caption").widget.children[0]  # type: ignore[attr-defined]

    trust = spec()
    assert "trust in patients or providers (out of 10)" in value_titles(trust)
    rc.find(v.Select, label="Patient group").widget.v_model = "Sex workers"  # type: ignore[attr-defined]
    assert "Sex workers are shown" in caption()
    colouring = rc.find(v.Html, class_="network-colour").find(v.BtnToggle)  # type: ignore[attr-defined]
    colouring.widget.v_model = network.COLOURINGS.index("stigma")  # Vuetify 2: the button's index
    stigma = spec()
    assert "stigma toward Sex workers, held or met (out of 10)" in value_titles(stigma)
    providers = people_layers(stigma)[1]["data"]["values"]
    span = model.providers.at_site(0)
    assert [n["value"] for n in providers] == np.round(
        10 * model.providers.stigma[span, 2], 2
    ).tolist()
    # A step redraws it (the chart follows ``state.tick``).
    model.run_for(1)
    state.tick.set(state.tick.value + 1)
    assert spec() != stigma
    rc.find(v.Select, label="Site").widget.v_model = model.sites[3].name  # type: ignore[attr-defined]
    assert spec()["title"] == f"{model.sites[3].name}: who works with whom"


def test_the_network_view_has_its_info_panel_except_on_a_projector() -> None:
    model = CoproductionModel.from_scenario("careqic", rng=3)
    _, rc = solara.render(NetworkView(model), handle_error=False)
    headers = [w.children for w in rc.find(v.ExpansionPanelHeader).widgets]  # type: ignore[attr-defined]
    assert ["About the network view"] in headers
    state.presenter.set(True)
    _, rc = solara.render(NetworkView(model), handle_error=False)
    assert not rc.find(v.ExpansionPanelHeader).widgets  # type: ignore[attr-defined]
    assert rc.find(v.Select, label="Site").widget.dense  # type: ignore[attr-defined]


def test_presenter_mode_offers_the_network_view_drawn_for_a_projector() -> None:
    assert ("network",) in explore.PRESENTER_VIEWS.values()
    name = next(k for k, v in explore.PRESENTER_VIEWS.items() if v == ("network",))
    state.presenter.set(True)
    explore.presenter_view.set(name)
    _, rc = solara.render(explore.Page(), handle_error=False)
    state.current_model()
    (drawn,) = [w.full_spec() for w in rc.find(VegaLiteLive).widgets]  # type: ignore[attr-defined]
    assert drawn["usermeta"]["embedOptions"]["renderer"] == "canvas"  # the network, alone
    assert drawn["width"] == drawn["height"] == network.PRESENTER_SIDE
    assert drawn["config"]["legend"]["labelFontSize"] >= charts.PRESENTER_FONT
    caption = rc.find(v.Html, class_="network-caption").widget.children[0]  # type: ignore[attr-defined]
    assert caption.startswith("Colour:")


def test_the_choices_survive_switching_presenter_mode() -> None:
    model = CoproductionModel.from_scenario("careqic", rng=3)
    _, rc = solara.render(NetworkView(model), handle_error=False)
    rc.find(v.Select, label="Patient group").widget.v_model = "Sex workers"  # type: ignore[attr-defined]
    rc.find(v.Select, label="Site").widget.v_model = model.sites[2].name  # type: ignore[attr-defined]
    state.presenter.set(True)  # the page draws the view anew, at a projector's size
    _, rc = solara.render(NetworkView(model), handle_error=False)
    assert rc.find(v.Select, label="Patient group").widget.v_model == "Sex workers"  # type: ignore[attr-defined]
    assert rc.find(v.Select, label="Site").widget.v_model == model.sites[2].name  # type: ignore[attr-defined]
