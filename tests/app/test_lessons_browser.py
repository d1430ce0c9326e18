"""One Teach lesson end to end, in real Chromium against the real app: the class predicts,
the app runs the lesson, the runs' verdict and story appear beside the highlighted chart,
the result survives a visit to another page, "More replications" adds a batch, and the
download carries the seeds.

Screenshots go to ``test-output/screenshots/``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import expect

from app.lessons import LESSON_BY_KEY, number
from coprod_sim.experiments import replication_seed
from tests.app.conftest import Server, Traffic, element_screenshot, screenshot
from tests.app.test_browser import load

pytestmark = pytest.mark.browser

LESSON = LESSON_BY_KEY["tokenism"]


def test_a_lesson_predicts_runs_and_explains(
    page: object, traffic: Traffic, app_server: Server
) -> None:
    load(page, app_server, "/teach")
    page.get_by_role("button", name=LESSON.short).click()  # type: ignore[attr-defined]
    page.get_by_text(LESSON.title).first.wait_for()  # type: ignore[attr-defined]
    # The lesson's info panel, folded, opens on a click and shows its parts.
    page.get_by_text("About this lesson").click()  # type: ignore[attr-defined]
    page.locator(".info-panel").get_by_text("Things to notice").wait_for()  # type: ignore[attr-defined]
    assert LESSON.info.what_it_is in page.locator(".info-panel").inner_text()  # type: ignore[attr-defined]
    run = page.get_by_role("button", name="Run this lesson")  # type: ignore[attr-defined]
    assert run.is_disabled()  # the class predicts first
    assert page.get_by_role("button", name="Try another seed").count() == 0  # type: ignore[attr-defined]
    guess = LESSON.choices[1]
    page.get_by_role("button", name=guess.text).click()  # type: ignore[attr-defined]
    expect(run).to_be_enabled()
    run.click()

    verdict = page.locator(".lesson-verdict")  # type: ignore[attr-defined]
    verdict.wait_for(timeout=120_000)
    story = page.locator(".lesson-narration").inner_text()  # type: ignore[attr-defined]
    first = re.search(r"(\d+) paired replications of 78 weeks", story)
    assert first, story
    replications = int(first.group(1))
    assert replications >= LESSON.rule.first
    # The verdict names the choice the runs support and sets it against the prediction.
    text = verdict.inner_text()
    said = re.search(r"The runs support: \u201c(.+)\u201d", text)
    assert said, text
    assert said.group(1) in {c.text for c in LESSON.choices}
    if said.group(1) == guess.text:
        assert "The class predicted this too." in text
    else:
        assert (
            f"The class predicted \u201c{guess.text}\u201d, which these runs do not support" in text
        )
    # The narration points at the highlighted chart, in plain units.
    assert "In the highlighted chart" in story
    assert "per 1,000" in story and "out of 10" in story
    highlighted = page.locator(".chart-highlighted")  # type: ignore[attr-defined]
    assert highlighted.count() == 1
    highlighted.locator("svg.marks").first.wait_for()
    assert "lesson-tokenism-ideas" in (highlighted.get_attribute("class") or "")
    screenshot(page, "lesson-tokenism")
    element_screenshot(page, ".lesson-verdict", "lesson-tokenism-verdict")

    # Another page and back: the result is still there, not run again.
    page.get_by_role("link", name="Explore").first.click()  # type: ignore[attr-defined]
    page.get_by_text(re.compile(r"Week \d+ of \d+")).wait_for()  # type: ignore[attr-defined]
    page.get_by_role("link", name="Teach").first.click()  # type: ignore[attr-defined]
    page.get_by_role("button", name=LESSON.short).click()  # type: ignore[attr-defined]
    page.locator(".lesson-verdict").wait_for()  # type: ignore[attr-defined]
    assert page.locator(".lesson-narration").inner_text() == story  # type: ignore[attr-defined]

    # More replications: one batch more, the story updated from the larger set of runs.
    page.get_by_role("button", name=f"More replications (+{LESSON.rule.batch})").click()  # type: ignore[attr-defined]
    more = replications + LESSON.rule.batch
    page.get_by_text(f"{more} paired replications of 78 weeks").wait_for(timeout=120_000)  # type: ignore[attr-defined]

    with page.expect_download() as download:  # type: ignore[attr-defined]
        page.get_by_text("Download the runs (CSV)").click()  # type: ignore[attr-defined]
    name = download.value.suggested_filename
    assert name == f"lesson-tokenism-seed{LESSON.root_seed}-{more}reps.csv"
    path = Path(download.value.path())
    header = [line for line in path.read_text().splitlines() if line.startswith("# ")]
    assert f"# root_seed: {LESSON.root_seed}" in header
    assert any(line.startswith("# scenario_sha256 A: ") for line in header)
    runs = pd.read_csv(path, comment="#")
    assert len(runs) == 2 * more
    assert set(runs["design"]) == {"A", "B"}
    seeds = [replication_seed(LESSON.root_seed, r) for r in range(more)]
    assert runs[runs["design"] == "A"]["seed"].tolist() == seeds
    # The story's effect is the paired mean of the downloaded runs.
    key = LESSON.primary.key
    by = runs.pivot(index="replication", columns="design", values=key)
    effect = number(abs(float((by["B"] - by["A"]).mean())), LESSON.primary.unit)
    story = page.locator(".lesson-narration").inner_text()  # type: ignore[attr-defined]
    assert f"{effect} more patient-originated changes were adopted" in story, (effect, story)
    traffic.check_offline()
