"""Fetch the Solara app's front-end assets from the npm registry, for offline use.

A Solara page loads its JavaScript and CSS through the server's ``/_solara/cdn/``
proxy, which serves files from ``<sys.prefix>/share/solara/cdn/<package>@<version>/``
and fetches anything missing from a public CDN. With no internet the page would
be blank, so this script puts every package the app's pages ask for into that
folder ahead of time, from the npm registry (``npm pack``), which set-up can reach.

Run it with the project's interpreter (``make assets`` does): ``sys.prefix`` is
then ``.venv``. It is idempotent: packages already unpacked are skipped. Each
package is unpacked into a temporary folder and renamed into place, so an
interrupted run never leaves a half-written package that would later be served.

The list comes from the pages' requests (the browser tests fail on any request
that is not answered) and from the project's measured notes on Solara offline
(see ``app/README.md``): Solara's Vue 2 app, RequireJS, Font Awesome, the grid
layout of Solara's ``GridLayout`` (which Mesa's SolaraViz uses, so that a SolaraViz
page renders offline too), Mermaid and KaTeX (which Solara's Markdown loads) and
Vega for the charts.
The Vega folders are named by major version only, because that is how Solara's
VegaLite widget asks for them (``vega@5/build/vega.min.js``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

#: (npm package and exact version, folder name the page asks for)
PACKAGES: tuple[tuple[str, str], ...] = (
    ("@widgetti/solara-vuetify-app@10.1.1", "@widgetti/solara-vuetify-app@10.1.1"),
    ("requirejs@2.3.6", "requirejs@2.3.6"),
    ("font-awesome@4.5.0", "font-awesome@4.5.0"),
    ("@widgetti/vue-grid-layout@2.3.13-alpha.2", "@widgetti/vue-grid-layout@2.3.13-alpha.2"),
    # solara.Markdown loads Mermaid (diagrams) and KaTeX (maths) wherever Markdown is shown.
    ("mermaid@10.8.0", "mermaid@10.8.0"),
    ("katex@0.16.9", "katex@0.16.9"),
    ("vega@5.33.1", "vega@5"),
    ("vega-lite@5.23.0", "vega-lite@5"),
    ("vega-embed@6.29.0", "vega-embed@6"),
)


def default_destination() -> Path:
    """Where the Solara server of this interpreter looks for cached assets."""
    configured = os.environ.get("SOLARA_ASSETS_PROXY_CACHE_DIR")
    return Path(configured) if configured else Path(sys.prefix) / "share" / "solara" / "cdn"


def fetch(spec: str, folder: Path) -> None:
    """``npm pack`` one package and unpack its contents (without the ``package/``
    prefix of npm tarballs) into ``folder``, atomically."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=".fetch-") as tmp:
        work = Path(tmp)
        result = subprocess.run(
            ["npm", "pack", spec, "--silent", "--pack-destination", str(work)],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SystemExit(f"npm pack {spec} failed:\n{result.stderr.strip()}")
        (tarball,) = work.glob("*.tgz")
        unpacked = work / "unpacked"
        with tarfile.open(tarball) as archive:
            # The "data" filter refuses absolute paths, links out of the tree and devices.
            archive.extractall(unpacked, filter="data")
        (root,) = list(unpacked.iterdir())  # npm tarballs hold one top folder, "package"
        root.rename(work / "ready")
        (work / "ready").rename(folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=default_destination())
    parser.add_argument("--force", action="store_true", help="fetch packages again")
    args = parser.parse_args(argv)
    if shutil.which("npm") is None:
        raise SystemExit("npm is needed to fetch the app's front-end assets (apt-get install npm)")
    for spec, name in PACKAGES:
        folder = args.dest / name
        if folder.is_dir() and not args.force:
            continue
        if folder.exists():
            shutil.rmtree(folder)
        print(f"fetching {spec} -> {folder}")
        fetch(spec, folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
