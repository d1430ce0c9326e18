"""The layering contract (``.importlinter``): mechanisms <- model <- study layers <- CLI,
the app beside the CLI, and no import cycles. Checked by import-linter on the real tree."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_layering_contract_holds() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    outcome = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert outcome.returncode == 0, outcome.stdout[-3000:] + outcome.stderr[-2000:]
    assert "0 broken" in outcome.stdout
