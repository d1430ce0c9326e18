"""The documentation site (mkdocs.yml) builds with ``mkdocs build --strict``, offline, has
its pages, and loads nothing from another host when viewed.

The site is built once per module into a temporary folder, with this environment's mkdocs.
"""

from __future__ import annotations

import html
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MKDOCS = Path(sys.executable).with_name("mkdocs")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

#: Tags that make a browser fetch something as the page loads, and the attributes naming it.
#: Hyperlinks (<a href>) are followed only when clicked, so they may name any host.
ASSET_ATTRIBUTES = {
    "script": ("src",),
    "link": ("href",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "input": ("src",),
    "image": ("href", "xlink:href"),  # SVG
    "use": ("href", "xlink:href"),  # SVG
}
#: An address on another host: a scheme, or protocol-relative (//host/...).
EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
CSS_EXTERNAL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])\s*(?:[a-z]+:)?//""", re.I)


@dataclass
class Site:
    folder: Path
    result: subprocess.CompletedProcess[str]
    seconds: float


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    folder = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}  # mkdocs-material's notice, not a warning
    started = time.perf_counter()
    result = subprocess.run(
        [str(MKDOCS), "build", "--strict", "--site-dir", str(folder)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return Site(folder, result, time.perf_counter() - started)


def test_the_site_builds_with_strict(site: Site) -> None:
    assert site.result.returncode == 0, site.result.stdout + site.result.stderr
    assert "WARNING" not in site.result.stderr


def _page(site: Site, path: str) -> str:
    page = site.folder / path / "index.html"
    assert page.is_file(), f"{path or 'the home page'} was not built"
    return page.read_text(encoding="utf-8")


def _first_heading(markdown: Path, level: str = "##") -> str:
    """A heading of a project file, to find on the page that includes it."""
    (heading,) = re.findall(rf"^{level} (.+)$", markdown.read_text(encoding="utf-8"), re.M)[:1]
    return html.escape(heading.replace("`", "").replace("*", "").strip(), quote=False)


def test_the_pages_are_there_and_say_what_their_files_say(site: Site) -> None:
    # The home page is README.md, included, not copied; its links to docs/ are pages.
    home = _page(site, "")
    assert _first_heading(ROOT / "README.md") in home
    assert 'href="ODD/"' in home
    assert _first_heading(ROOT / "docs" / "ODD.md") in _page(site, "ODD")
    assert "<table>" in _page(site, "parameters")
    validation = _page(site, "validation")
    assert _first_heading(ROOT / "docs" / "validation.md", "#") in validation
    for image in re.findall(r'<img[^>]+src="([^"]+)"', validation):
        assert (site.folder / "validation" / image).resolve().is_file(), image


def test_the_api_reference_documents_the_public_modules(site: Site) -> None:
    expected = {
        "api/model": ["coprod_sim", "coprod_sim.model.CoproductionModel", "coprod_sim.outputs"],
        "api/scenario": ["coprod_sim.scenario", "coprod_sim.scenario.load_scenario"],
        "api/experiments": [
            "coprod_sim.experiments",
            "coprod_sim.experiments.spec.parse_spec",
            "coprod_sim.experiments.engine.run_experiment",
            "coprod_sim.experiments.analysis.paired_differences",
        ],
        "api/calibration": ["coprod_sim.calibration", "coprod_sim.calibration.spec"],
        "api/planning": ["coprod_sim.planning", "coprod_sim.planning.discovery"],
        "api/mechanisms": ["coprod_sim.mechanisms", "coprod_sim.mechanisms.trust"],
        "api/improvement": ["coprod_sim.improvement"],
        "api/validation": ["coprod_sim.validation", "coprod_sim.validation.checks"],
    }
    for path, identifiers in expected.items():
        page = _page(site, path)
        for identifier in identifiers:
            assert f'id="{identifier}"' in page, f"{identifier} is not documented in {path}"
    # The docstrings' reST roles are shown as code, not as ":class:".
    assert ":class:`" not in _page(site, "api/scenario")


def test_every_notebook_has_a_page(site: Site) -> None:
    assert NOTEBOOKS
    for notebook in NOTEBOOKS:
        page = _page(site, f"notebooks/{notebook.stem}")
        assert 'class="jupyter-wrapper"' in page


def test_nothing_is_loaded_from_another_host(site: Site) -> None:
    found: list[str] = []
    pages = sorted(site.folder.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        parser = _Assets()
        parser.feed(page.read_text(encoding="utf-8"))
        name = page.relative_to(site.folder)
        found += [f"{name}: <{tag} {attr}={url!r}>" for tag, attr, url in parser.external]
        found += [f"{name}: an inline script names {url}" for url in parser.script_urls]
        found += [f"{name}: a style loads {m}" for m in parser.style_urls]
    for sheet in sorted(site.folder.rglob("*.css")):
        text = sheet.read_text(encoding="utf-8", errors="replace")
        found += [f"{sheet.relative_to(site.folder)}: {m}" for m in CSS_EXTERNAL.findall(text)]
    assert not found, "\n".join(found)


class _Assets(HTMLParser):
    """Every address a page fetches as it loads that is on another host."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.external: list[tuple[str, str, str]] = []
        self.script_urls: list[str] = []
        self.style_urls: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name in ASSET_ATTRIBUTES.get(tag, ()):
                urls = [u.split()[0] for u in value.split(",") if u.strip()]
                if name != "srcset":
                    urls = [value]
                self.external += [(tag, name, url) for url in urls if EXTERNAL.match(url)]
            if name == "style":
                self.style_urls += CSS_EXTERNAL.findall(value)
            elif tag == "script":  # e.g. mkdocs-jupyter's MathJax loader keeps its CDN here
                self.script_urls += re.findall(r"https?://[^\s\"'`<>)]+", value)
        self._in = tag if tag in ("script", "style") else None

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "script":  # e.g. a loader that adds a <script src> from a CDN
            self.script_urls += re.findall(r"https?://[^\s\"'`<>)]+", data)
        elif self._in == "style":
            self.style_urls += CSS_EXTERNAL.findall(data)


def test_the_api_reference_shows_rest_markup_as_markdown() -> None:
    """docs/hooks/rst_docstrings.py: what the docstrings' reST becomes on the API pages."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("rst", ROOT / "docs/hooks/rst_docstrings.py")
    assert spec is not None and spec.loader is not None
    rst = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rst)
    text = "\n".join(
        [
            "See :class:`~coprod_sim.errors.ScenarioError` and :func:`load`.",
            "",
            "=====  ============",
            "a      b",
            "=====  ============",
            "x      one",
            "       more words",
            "=====  ============",
            "",
            "An example::",
            "",
            "    code",
            "",
            ">>> 1 + 1",
            "2",
        ]
    )
    assert rst.rst_to_markdown(text).split("\n") == [
        "See `ScenarioError` and `load`.",
        "",
        "",
        "| a | b |",
        "|---|---|",
        "| x | one more words |",
        "",
        "",
        "An example:",
        "",
        "    code",
        "",
        "```pycon",
        ">>> 1 + 1",
        "2",
        "```",
    ]
    # A table whose cells do not fit a Markdown table is shown as written.
    ragged = "==  ==\nabcdef\n==  ==\n"
    assert rst.rst_to_markdown(ragged).startswith("```text\n==  ==\nabcdef\n")
