"""The Info panels and the glossary: every page has one, the words are plain (no file
names, code names or jargon, short sentences), and the components render the text."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping

import ipyvuetify as v
import pytest
import solara

from app.info import (
    GLOSSARY,
    MAX_SENTENCE_WORDS,
    PAGES,
    Glossary,
    Info,
    InfoPanel,
    long_sentences,
    plain_words_problems,
    sentences,
)
from app.lessons import LESSONS, all_infos
from coprod_sim.mechanisms.power import LADDER

PAGE_NAMES = ("explore", "compare", "plan", "teach", "network")
REQUIRED_TERMS = (
    "Arnstein's ladder",
    "key populations",
    "trust both ways",
    "patients' trust in providers",
    "providers' regard for patients",
    "stigma",
    "coproduction",
    "improvement collaborative",
    "PDSA cycle",
    "representative",
    "retention in care",
    "viral suppression",
    "equity gap",
    "common random numbers",
    "paired replications",
    "95% interval",
    "minimum important difference",
)


def every_text() -> Iterator[tuple[str, str]]:
    """(where, text) for every text shown: each Info's parts, lesson titles, the glossary."""
    for where, info in all_infos().items():
        for text in info.texts():
            yield where, text
    found = getattr(sys.modules.get("app.lessons"), "LESSONS", ()) or ()
    for lesson in found.values() if isinstance(found, Mapping) else found:
        yield f"lesson {lesson.key} title", lesson.title
    for term, meaning in GLOSSARY.items():
        yield "glossary term", term
        yield f"glossary: {term}", meaning


# --- what there is -------------------------------------------------------------------------
@pytest.mark.parametrize("name", PAGE_NAMES)
def test_every_page_has_an_info_with_every_part(name: str) -> None:
    info = PAGES[name]
    assert isinstance(info, Info)
    assert info.what_it_is.strip() and info.how_it_works.strip()
    assert info.things_to_notice and info.things_to_try
    assert all(line.strip() for line in (*info.things_to_notice, *info.things_to_try))


def test_the_explore_info_points_at_each_chart_and_is_honest() -> None:
    text = " ".join(PAGES["explore"].texts())
    for chart in ("trust chart", "stigma chart", "changes chart", "value chart", "retention chart"):
        assert chart in text, chart
    assert "one possible history" in text and "illustrative" in text
    assert "paired replications" in text  # what to trust instead of one run
    for name in ("compare", "plan"):
        assert "illustrative" in " ".join(PAGES[name].texts()), name


def test_the_teach_info_describes_the_ten_lessons_and_how_they_run() -> None:
    text = " ".join(PAGES["teach"].texts())
    for words in (
        "Ten lessons",
        "stylized fact",
        "CaReQIC story",
        "predict, run, explain",
        "paired replications",
        "until",  # the runs go on until the answer is clear
        "highlighted chart",
        "more replications",
    ):
        assert words.lower() in text.lower(), words
    assert "seed" not in text.lower()  # the lessons' chance events are fixed: no seed to set


def test_the_glossary_has_the_required_terms_and_every_rung() -> None:
    missing = [term for term in REQUIRED_TERMS if term not in GLOSSARY]
    assert not missing, missing
    for rung, name in enumerate(LADDER, 1):
        assert f"{name} (rung {rung})" in GLOSSARY, name  # the rung as the app names it
    assert all(meaning.strip() for meaning in GLOSSARY.values())


def test_all_infos_holds_every_page() -> None:
    infos = all_infos()
    for name in PAGE_NAMES:
        assert infos[name] is PAGES[name]


def test_all_infos_are_the_pages_and_every_lesson() -> None:
    infos = all_infos()
    assert {k: infos[k] for k in PAGES} == PAGES
    assert {k for k in infos if k not in PAGES} == {f"lesson {x.key}" for x in LESSONS}


# --- plain words ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "bad",
    [
        "The feedback mechanism (feedback.py) counts it.",
        "See docs/ODD.md for details.",
        "It lives in coprod_sim.",
        "Run coprod plan on it.",
        "Set power_sharing to 6.",
        "Close the feedback_loop.",
        "The value of `trust` falls.",
        "Trust is a beta reputation.",
        "Mesa's DataCollector records it.",
        "Stored in numpy arrays.",
        "Call run_pair() to run both.",
        "Read model.step first.",
        "Run it with --quick.",
        "InfoPanel shows this.",
        "The weight ω rises.",
    ],
)
def test_the_checker_catches_code_names_and_jargon(bad: str) -> None:
    assert plain_words_problems(bad), bad


@pytest.mark.parametrize(
    "good",
    [
        "The trust chart has three lines.",
        "CaReQIC had 26 teams; JaQIC had 10.",
        "Teams run PDSA cycles, and HIV care improves.",
        "Input reported back 90% of the time, for example 0.9 against 0.",
        "Trust runs both ways: patients' trust in providers, and providers' regard.",
        "Coproduction, and a coproduced recovery.",
    ],
)
def test_the_checker_passes_plain_words(good: str) -> None:
    assert plain_words_problems(good) == []


def test_no_text_has_a_file_path_or_code_name() -> None:
    problems = [(where, p) for where, text in every_text() for p in plain_words_problems(text)]
    assert not problems, problems


def test_the_sentence_check_catches_a_long_sentence() -> None:
    long = " ".join(["word"] * (MAX_SENTENCE_WORDS + 1)) + "."
    assert long_sentences(f"A short one. {long} Another short one.") == [long]
    assert long_sentences("One. Two words. Three words here.") == []
    assert sentences("A 0.5 share. Then more!") == ["A 0.5 share.", "Then more!"]


def test_sentences_are_short() -> None:
    too_long = [(where, s) for where, text in every_text() for s in long_sentences(text)]
    assert not too_long, too_long
    lengths = [len(s.split()) for _, text in every_text() for s in sentences(text)]
    assert sum(lengths) / len(lengths) <= 18  # a modest reading age on average


# --- the components -----------------------------------------------------------------------------
def texts_in(widget: object) -> list[str]:
    """Every text inside a widget, at any depth."""
    found = []
    for child in getattr(widget, "children", ()):
        found += [child] if isinstance(child, str) else texts_in(child)
    return found


def html_texts(rc: object) -> list[str]:
    """Every text rendered inside the folded panel."""
    return texts_in(rc.find(v.ExpansionPanelContent).widget)  # type: ignore[attr-defined]


@pytest.mark.usefixtures("session")
@pytest.mark.parametrize("name", PAGE_NAMES)
def test_the_info_panel_renders_folded_with_every_text(name: str) -> None:
    info = PAGES[name]
    _, rc = solara.render(InfoPanel(info, title=f"About {name}"), handle_error=False)
    assert rc.find(v.ExpansionPanels).widget.v_model is None  # folded until opened
    assert rc.find(v.ExpansionPanelHeader).widget.children == [f"About {name}"]
    # Folded, its text is not built (a page pays for every element at every step).
    assert not rc.find(v.Html, tag="li").widgets
    rc.find(v.ExpansionPanels).widget.v_model = 0  # opened, as a click does
    shown = html_texts(rc)
    for text in info.texts():
        assert text in shown, text
    for heading in ("What it is", "How it works", "Things to notice", "Things to try"):
        assert heading in shown
    items = rc.find(v.Html, tag="li").widgets
    assert len(items) == len(info.things_to_notice) + len(info.things_to_try)


@pytest.mark.usefixtures("session")
def test_the_info_panel_has_a_default_title() -> None:
    _, rc = solara.render(InfoPanel(PAGES["explore"]), handle_error=False)
    assert rc.find(v.ExpansionPanelHeader).widget.children == ["About this page"]


@pytest.mark.usefixtures("session")
def test_the_glossary_renders_folded_with_every_term() -> None:
    _, rc = solara.render(Glossary(), handle_error=False)
    assert rc.find(v.ExpansionPanels).widget.v_model is None
    assert rc.find(v.ExpansionPanelHeader).widget.children == ["Glossary"]
    assert not rc.find(v.Html, tag="dt").widgets
    rc.find(v.ExpansionPanels).widget.v_model = 0
    terms = [w.children[0] for w in rc.find(v.Html, tag="dt").widgets]
    meanings = [w.children[0] for w in rc.find(v.Html, tag="dd").widgets]
    assert terms == list(GLOSSARY) and meanings == list(GLOSSARY.values())


@pytest.mark.usefixtures("session")
def test_the_glossary_can_show_chosen_terms() -> None:
    chosen = {"stigma": GLOSSARY["stigma"]}
    _, rc = solara.render(Glossary(title="Words", terms=chosen), handle_error=False)
    assert rc.find(v.ExpansionPanelHeader).widget.children == ["Words"]
    rc.find(v.ExpansionPanels).widget.v_model = 0
    assert [w.children[0] for w in rc.find(v.Html, tag="dt").widgets] == ["stigma"]


@pytest.mark.usefixtures("session")
@pytest.mark.parametrize(
    ("page", "name", "title"),
    [("explore", "explore", "About this page"), ("plan", "plan", "About Plan")],
)
def test_each_page_shows_its_info_panel(page: str, name: str, title: str) -> None:
    import importlib

    module = importlib.import_module(f"app.{page}")
    _, rc = solara.render(module.Page(), handle_error=False)
    headers = [w.children for w in rc.find(v.ExpansionPanelHeader).widgets]  # type: ignore[attr-defined]
    assert [title] in headers, headers
    panel = rc.find(v.ExpansionPanels).widgets[headers.index([title])]  # type: ignore[attr-defined]
    panel.v_model = 0
    shown = texts_in(panel)
    for text in PAGES[name].texts():
        assert text in shown, text
