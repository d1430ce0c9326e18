"""Run every Teach lesson as a class would, and write what each one showed to docs/lessons.md.

    .venv/bin/python scripts/lesson_effects.py            # about 5 minutes here
    .venv/bin/python scripts/lesson_effects.py --other-seeds 0 --out /tmp/lessons.md

Each lesson is run at its own fixed root seed under its sequential rule, exactly as the
Teach page runs it, and every measure's effect is reported with its 95% interval in the
units the class reads, with whether the stylized fact's effect appeared. Then the lesson
is run again, under the same rule, from other root seeds: the report says whether the
primary measure's verdict (which prediction the runs support) is the same from each. A
lesson whose verdict changes with the root seed would invite seed-shopping, which the
rule is meant to rule out; the table shows whether it does.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from dataclasses import replace
from pathlib import Path

from app import lessons
from app.lessons import DOWN, SAME, UNCLEAR, UP, Effect, Lesson
from app.pairs import PairResult
from coprod_sim import __version__

ROOT = Path(__file__).resolve().parents[1]
#: Root seeds of the stability check, offset from each lesson's own seed.
OFFSETS = (1000, 2000, 3000, 4000)
WORDS = {UP: "higher", DOWN: "lower", SAME: "no difference that matters", UNCLEAR: "unclear"}


def appeared(effect: Effect) -> str:
    """Whether the fact's effect showed, in a word or three."""
    if effect.appeared is None:
        return "(no claim)"
    if effect.appeared:
        return "yes"
    if effect.direction in (UP, DOWN):
        return "no: the opposite"
    return "no: " + WORDS[effect.direction]


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def lesson_section(
    lesson: Lesson,
    result: PairResult,
    seconds: float,
    others: list[tuple[int, str, int]],
    missing: list[str],
) -> str:
    """The lesson's section; each measure showing no clear effect is added to ``missing``."""
    a, b = lesson.names
    lines = [
        f"## {lesson.short}: {lesson.title}",
        "",
        lesson.fact,
        "",
        lessons.designs_sentence(lesson),
        "",
        f"Run as the class runs it: root seed {lesson.root_seed}, {result.replications} paired "
        f"replications of {lesson.weeks} weeks ({seconds:.0f} s here). Effects are B − A "
        f"({b} minus {a}) unless the measure is a change within one design.",
        "",
        "| measure | A | B | effect (95% interval) | fact's effect appeared |",
        "|---|---|---|---|---|",
    ]
    for effect in lesson.effects(result):
        m = effect.measure
        label = lessons.capitalised(lessons.label_text(m.label, result))
        if isinstance(m, lessons.Change):
            label += f" (within {result.names[m.design]})"
        first, second = (lessons.number(v, m.unit) for v in effect.levels)
        shown = lessons.plain_effect(effect, result)
        lines.append(f"| {cell(label)} | {first} | {second} | {shown} | {appeared(effect)} |")
        if effect.appeared is False or (
            effect.appeared is None and effect.direction != UP and effect.direction != DOWN
        ):
            said = WORDS[effect.direction] if effect.appeared is None else appeared(effect)
            missing.append(f"- {lesson.short}: {label}: {shown}, {said}.")
    chosen = lessons.supported(lesson, lesson.primary.effect(result))
    verdicts = [(lesson.root_seed, chosen.text if chosen else "none yet", result.replications)]
    verdicts += others
    same = len({v for _, v, _ in verdicts}) == 1
    lines += [
        "",
        "The prediction the runs support, from each root seed "
        f"({'the same from every seed' if same else 'NOT the same from every seed'}):",
        "",
        "| root seed | replications | the runs support |",
        "|---|---|---|",
        *(f"| {seed} | {n} | {cell(text)} |" for seed, text, n in verdicts),
        "",
    ]
    return "\n".join(lines)


def other_seeds(lesson: Lesson, count: int) -> list[tuple[int, str, int]]:
    """The supported prediction from ``count`` other root seeds, under the lesson's rule."""
    out = []
    for offset in OFFSETS[:count]:
        moved = replace(lesson, root_seed=lesson.root_seed + offset)
        result = lessons.run_lesson(moved)
        chosen = lessons.supported(moved, moved.primary.effect(result))
        out.append((moved.root_seed, chosen.text if chosen else "none yet", result.replications))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--other-seeds", type=int, default=3, choices=range(len(OFFSETS) + 1))
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "lessons.md")
    args = parser.parse_args()
    started = time.perf_counter()
    sections, summary, missing = [], [], []
    for lesson in lessons.LESSONS:
        t = time.perf_counter()
        result = lessons.run_lesson(lesson)
        seconds = time.perf_counter() - t
        primary = lesson.primary.effect(result)
        others = other_seeds(lesson, args.other_seeds)
        sections.append(lesson_section(lesson, result, seconds, others, missing))
        chosen = lessons.supported(lesson, primary)
        stable = len({chosen.text if chosen else "none yet"} | {v for _, v, _ in others}) == 1
        summary.append(
            f"| {lesson.short} | {cell(lessons.label_text(lesson.primary.label, result))} | "
            f"{lessons.plain_effect(primary, result)} | {appeared(primary)} | "
            f"{result.replications} | {'yes' if stable else 'no'} |"
        )
        print(f"{lesson.key}: {appeared(primary)}, {seconds:.1f} s", flush=True)
    minutes = (time.perf_counter() - started) / 60
    command = shlex.join(["python", "scripts/lesson_effects.py", *sys.argv[1:]])
    text = "\n".join(
        [
            "# What the lessons show",
            "",
            f"Generated by `{command}` with coprod_sim {__version__} in {minutes:.1f} min. "
            "Every number below is measured from the runs; nothing is typed in.",
            "",
            "Each lesson of the Teach page runs two designs with common random numbers (pair "
            "r of both designs starts from the same seed), ten pairs first, then five more "
            "while the primary measure's 95% interval neither lies clear of 0 nor within the "
            "smallest difference that would matter, up to forty. Its root seed is fixed, so "
            "every class sees the same runs; the last column says whether other root seeds "
            "would have supported the same prediction "
            f"({args.other_seeds} other seeds a lesson).",
            "",
            "An effect that did not appear is reported as such: where coproduction makes "
            "little difference to an outcome in the model, the lesson says so to the class.",
            "",
            "| lesson | primary measure | effect (95% interval) | fact's effect appeared "
            "| replications | same verdict from other seeds |",
            "|---|---|---|---|---|---|",
            *summary,
            "",
            "Where the runs show no clear effect, at each lesson's own seed (a measure the fact "
            "makes a claim about, or one it makes none about, such as retention in care):",
            "",
            *(missing or ["- none"]),
            "",
            *sections,
        ]
    )
    args.out.write_text(text)
    print(f"wrote {args.out} in {minutes:.1f} min")


if __name__ == "__main__":
    main()
