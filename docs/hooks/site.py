"""MkDocs hooks for the site (``hooks:`` in ``mkdocs.yml``; this folder is not published).

Two jobs, both so that ``mkdocs build --strict`` passes on the project's own files, unedited:

* **Links in included files.** ``docs/index.md`` includes ``README.md`` whole (and other pages
  include ``experiments/README.md`` and ``app/README.md``) with ``pymdownx.snippets``. Their
  relative links are written from the repository, not from ``docs/``: ``docs/ODD.md`` in the
  README is ``ODD.md`` on the site. Each relative link that names no page is looked up from
  the page's own folder in the repository and then from the folder of each file the page
  includes. A file found inside ``docs/`` is linked as a page; a file included by a page is
  linked to that page; any other file of the repository (a spec, a module) is not on the site,
  so the link becomes its text, with the repository path as a tooltip. A link that names
  nothing in the repository is left for MkDocs to report as broken.
* **No MathJax from a CDN.** mkdocs-jupyter appends to every page a loader that fetches
  MathJax from cdn.jsdelivr.net when a notebook is shown. The site loads nothing from another
  host, and the notebooks hold no LaTeX, so the loader is taken out again.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit
from xml.etree.ElementTree import Element

from markdown import Markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

#: A whole-file include: ``--8<-- "path"`` alone on its line (pymdownx.snippets).
INCLUDE = re.compile(r'^[ \t]*-{1,}8<-{1,}[ \t]+"([^"\n]+)"[ \t]*$', re.MULTILINE)
#: mkdocs-jupyter's MathJax loader (``mathjax_script``), with the CDN address in its data.
MATHJAX_LOADER = re.compile(r"<script data-mkdocs-jupyter-mathjax=[^>]*>.*?</script>\n?", re.S)


class _State:
    def __init__(self) -> None:
        self.root = Path()  # the repository (the folder of mkdocs.yml)
        self.docs = Path()  # docs_dir
        self.page: Page | None = None
        self.files: Files | None = None
        self.includes: dict[str, list[str]] = {}  # page src_uri -> files it includes (from root)
        self.included_by: dict[str, str] = {}  # an included file (from root) -> its page


STATE = _State()


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    STATE.root = Path(config.config_file_path).resolve().parent
    STATE.docs = Path(config.docs_dir).resolve()
    config.markdown_extensions.append(_RepositoryLinks())  # type: ignore[arg-type]
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Which page includes which file, read before any page is rendered."""
    STATE.includes, STATE.included_by = {}, {}
    for file in files.documentation_pages():
        if not file.src_uri.endswith(".md") or file.abs_src_path is None:
            continue
        text = Path(file.abs_src_path).read_text(encoding="utf-8")
        names = [posixpath.normpath(name) for name in INCLUDE.findall(text)]
        STATE.includes[file.src_uri] = names
        for name in names:
            STATE.included_by.setdefault(name, file.src_uri)
    return files


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    STATE.page, STATE.files = page, files
    return markdown


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    return MATHJAX_LOADER.sub("", output)


class _RepositoryLinks(Extension):
    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Markdown's API)
        # Before MkDocs's own "relpath" (priority 0), which resolves and checks page links.
        md.treeprocessors.register(_LinkResolver(md), "coprod_repository_links", 2)


class _LinkResolver(Treeprocessor):
    def run(self, root: Element) -> None:
        page, files = STATE.page, STATE.files
        if page is None or files is None:
            return
        for element in root.iter("a"):
            href = element.get("href")
            if href:
                _resolve(element, href, page.file.src_uri, files)


def _resolve(element: Element, href: str, src_uri: str, files: Files) -> None:
    scheme, netloc, path, query, fragment = urlsplit(href)
    if scheme or netloc or not path or path.startswith("/"):
        return
    path = unquote(path)
    here = posixpath.dirname(src_uri)
    if files.get_file_from_path(posixpath.normpath(posixpath.join(here, path))):
        return  # a page of the site: MkDocs handles it
    docs = STATE.docs.relative_to(STATE.root).as_posix()
    folders = [posixpath.join(docs, here), *map(posixpath.dirname, STATE.includes.get(src_uri, []))]
    for folder in folders:
        target = posixpath.normpath(posixpath.join(folder, path))
        if target.startswith("../") or not (STATE.root / target).exists():
            continue
        page_uri = _page_for(target, docs, files)
        if page_uri is not None:
            relative = posixpath.relpath(page_uri, here or ".")
            element.set("href", urlunsplit(("", "", relative, query, fragment)))
        else:  # a file of the repository that is not on the site: keep the words
            element.tag = "span"
            del element.attrib["href"]
            element.set("title", f"{target} in the repository")
        return


def _page_for(target: str, docs: str, files: Files) -> str | None:
    """The site's page for a repository file, if it has one."""
    if target.startswith(f"{docs}/"):
        uri = target[len(docs) + 1 :]
        if files.get_file_from_path(uri):
            return uri
    return STATE.included_by.get(target)
