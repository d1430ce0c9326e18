"""The coprod command line: listing presets, running, writing results, refusing bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from coprod_sim import Scenario, load_scenario, preset_names
from coprod_sim.cli import app
from coprod_sim.results import RESULT_FILES

runner = CliRunner()
SMALL = [
    "--set",
    'sites=[{name="A", count=2, patients=80, providers=5, group_shares={general=0.8, msm=0.2}}]',
]


def coprod(*args: str):
    return runner.invoke(app, list(args))


def test_scenarios_lists_every_preset_on_one_line_each() -> None:
    result = coprod("scenarios")
    assert result.exit_code == 0
    for name in preset_names():
        assert name in result.stdout


def test_run_writes_parquet_toml_png_and_provenance(tmp_path: Path) -> None:
    out = tmp_path / "run"
    result = coprod(
        "run", "--scenario", "careqic", "--steps", "8", "--seed", "3", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "changes adopted" in result.stdout and "Transgender people" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == sorted(RESULT_FILES)
    collab = pd.read_parquet(out / "collaborative.parquet")
    assert list(collab["step"]) == list(range(9))
    assert len(pd.read_parquet(out / "sites.parquet")) == 9 * 26
    meta = json.loads(pq.read_schema(out / "groups.parquet").metadata[b"coprod_sim"])
    assert meta["seed"] == 3 and meta["steps"] == 8 and meta["scenario"] == "careqic"
    assert json.loads((out / "run.json").read_text()) == meta
    assert Scenario.from_toml((out / "scenario.toml").read_text()) == load_scenario("careqic")
    assert (out / "outcomes.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_written_scenario_reproduces_the_run(tmp_path: Path) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    args = ("--steps", "10", "--seed", "9")
    assert coprod("run", "-s", "tokenistic", *SMALL, *args, "--out", str(first)).exit_code == 0
    again = coprod("run", "-s", str(first / "scenario.toml"), *args, "--out", str(second))
    assert again.exit_code == 0, again.output
    for name in ("collaborative", "site_groups"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(first / f"{name}.parquet"), pd.read_parquet(second / f"{name}.parquet")
        )


def test_overrides_reach_the_model(tmp_path: Path) -> None:
    out = tmp_path / "o"
    result = coprod("run", *SMALL, "--set", "power_sharing=3", "--steps", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert load_scenario(out / "scenario.toml").power_sharing == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--scenario", "nonesuch"), "presets are"),
        (("--set", "power_sharing=12"), "power_sharing = 12"),
        (("--set", "bogus=1"), "bogus"),
        (("--set", "team_size=40"), "larger than site"),
        (("--set", "power_sharing"), "KEY=VALUE"),
    ],
)
def test_bad_input_exits_2_without_traceback_or_output(tmp_path: Path, args, message) -> None:
    out = tmp_path / "never"
    result = coprod("run", *args, "--steps", "2", "--out", str(out))
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert not out.exists()


#: Every field the care cascade and the mechanisms of Model 2 added, with a value it refuses.
MODEL_2_FIELDS = {
    "token_leave_ratio": "0.5",
    "word_of_mouth": "-1",
    "tokenism_sensitivity": "1.5",
    "historical_trust": "-0.2",
    "history_weeks": "0",
    "trust_appraisal": "2",
    "contact_without_conditions": "1.2",
    "attendance": "1.1",
    "mistrust_effect": "0.5",
    "stigma_effect": "0.9",
    "access_effect": "0",
    "tracing_effect": "100",
    "initial_on_treatment": "-1",
    "initial_adherence": "2",
    "treatment_start": "1.01",
    "adherence_lapse_rate": "-0.1",
    "adherence_counselling": "3",
    "enhanced_counselling": "-3",
    "suppression_rate": "1.5",
    "rebound_rate": "-0.5",
    "viral_load_interval": "0",
    "reversal_rate": "2",
    "aspect_roles.tracing.kind": '"sometimes"',
    "aspect_roles.tracing.drives": '"luck"',
}


@pytest.mark.parametrize(("field", "value"), sorted(MODEL_2_FIELDS.items()))
def test_every_new_field_refuses_bad_input_naming_it(tmp_path: Path, field, value) -> None:
    out = tmp_path / "never"
    result = coprod("run", *SMALL, "--set", f"{field}={value}", "--steps", "2", "--out", str(out))
    assert result.exit_code == 2, result.output
    assert field in result.stderr and value.strip('"') in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert not out.exists()


def test_a_bad_toml_file_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "careqic"\nfeedback_loop = 7\n')
    result = coprod("run", "--scenario", str(bad), "--out", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert "feedback_loop = 7" in result.stderr and "less than or equal to 1" in result.stderr


def test_earlier_results_are_replaced_only_when_asked(tmp_path: Path) -> None:
    out = tmp_path / "kept"
    assert coprod("run", *SMALL, "--steps", "2", "--seed", "1", "--out", str(out)).exit_code == 0
    before = (out / "run.json").read_text()
    result = coprod("run", *SMALL, "--steps", "3", "--out", str(out))
    assert result.exit_code == 2 and "--overwrite" in result.stderr
    assert (out / "run.json").read_text() == before
    result = coprod("run", *SMALL, "--steps", "3", "--out", str(out), "--overwrite")
    assert result.exit_code == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(RESULT_FILES)
    assert json.loads((out / "run.json").read_text())["steps"] == 3
    assert not list(tmp_path.glob(".kept*"))  # no staging or old folder left behind


def test_overwrite_never_deletes_files_that_are_not_results(tmp_path: Path) -> None:
    out = tmp_path / "thesis"
    out.mkdir()
    (out / "chapter1.tex").write_text("do not lose me")
    for flags in ((), ("--overwrite",)):
        result = coprod("run", *SMALL, "--steps", "2", "--out", str(out), *flags)
        assert result.exit_code == 2 and "not coprod results (chapter1.tex)" in result.stderr
    assert [p.name for p in out.iterdir()] == ["chapter1.tex"]


@pytest.mark.parametrize(
    ("make_out", "message"),
    [
        (lambda tmp: tmp / "a-file" / "sub", "is a file"),
        (lambda tmp: tmp / "a-file", "is a file; give a folder"),
        (lambda tmp: Path("."), "current folder"),
        (lambda tmp: tmp / ("x" * 300), "longer than 255 bytes"),
    ],
)
def test_an_unusable_output_folder_is_refused_before_running(
    tmp_path: Path, make_out, message
) -> None:
    (tmp_path / "a-file").write_text("")
    result = coprod("run", *SMALL, "--steps", "2", "--out", str(make_out(tmp_path)))
    assert result.exit_code == 2 and message in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_the_default_folder_is_a_safe_name_from_the_scenario(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = coprod("run", *SMALL, "--set", 'name="small teams (v2)"', "--steps", "1")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "results" / "small-teams-v2-seed0" / "run.json").exists()
    result = coprod("run", *SMALL, "--set", 'name="../escape"', "--steps", "1")
    assert result.exit_code == 2 and "name" in result.stderr


def test_a_file_that_is_not_text_is_refused(tmp_path: Path) -> None:
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00 not text")
    result = coprod("run", "--scenario", str(binary), "--out", str(tmp_path / "x"))
    assert result.exit_code == 2 and "UTF-8" in result.stderr


def test_the_installed_command_exits_2_on_bad_input(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("coprod")
    result = subprocess.run(
        [str(script), "run", "--set", "inclusion=sometimes", "--out", str(tmp_path / "n")],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200"},
    )
    assert result.returncode == 2
    assert (
        "inclusion = 'sometimes'" in result.stderr
        and "'convenience' or 'deliberate'" in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "n").exists()


@pytest.mark.parametrize(
    ("command", "default"),
    [
        ("run", "[default: results/<scenario>-seed<seed>]"),
        ("sweep", "[default: all cores]"),
        ("compare", "[default: don't keep]"),
        ("validate", "[default: all cores]"),
    ],
)
def test_help_shows_the_defaults_written_in_words(command: str, default: str) -> None:
    # Rich reads an unescaped "[default: ...]" as markup and drops it from the help.
    # Wide enough that no help text wraps inside its box.
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    assert default in result.stdout, result.stdout
