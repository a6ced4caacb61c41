"""The built smoke-profile site in a real browser: headless Chromium driven by Playwright.

The site (the session's smoke build, see ``book`` in conftest.py, or an already
built site given by ``FTLIB_SITE=/path/to/_build/html``) is served on a loopback
port. Checks: every page of the table of contents loads with HTTP 200 and no
JavaScript console error, every ``<img>`` decodes, every internal link
resolves, the search page finds a paper's key term. Screenshots of the landing
page and of one results page are written to ``_build/screenshots/`` of this
checkout (or ``FTLIB_SCREENSHOTS``) for a person to look at.

Uses Debian's ``chromium`` (``/usr/bin/chromium``, or ``FTLIB_CHROMIUM``); never
downloads a browser. Skipped only when Chromium or Playwright is missing *and*
the ``CI`` environment variable is unset: in CI a missing browser fails.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("FTLIB_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync", "--disable-quic"]
RESULTS_PAGE = "book/_executed/adversarial_ft/experiment_setup.html"
SEARCH_TERM = "Tikhonov"  # adversarial_ft's key term (Table 1)


def _missing() -> str | None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (pip install -r requirements.txt)"
    return None


_why = _missing()
if _why and not os.environ.get("CI"):
    pytest.skip(_why, allow_module_level=True)


def toc_pages() -> list[str]:
    """The site path of every page in _toc.yml, root first."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]

    def walk(entries):
        for e in entries or []:
            if "file" in e:
                pages.append(e["file"])
            walk(e.get("sections"))
            walk(e.get("chapters"))

    walk(toc.get("parts"))
    walk(toc.get("chapters"))
    return [f"{p}.html" for p in pages]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def site(request) -> Path:
    given = os.environ.get("FTLIB_SITE")
    if given:
        return Path(given).resolve()
    copy, _, _ = request.getfixturevalue("book")
    return copy / "_build" / "html"


@pytest.fixture(scope="module")
def server(site):
    """Base URL of an HTTP server on 127.0.0.1 (a free port) serving the built site."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if _why:
        pytest.fail(f"CI is set but the browser test cannot run: {_why}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A fresh page that may only reach the test server (every other request is aborted, never sent)."""
    context = browser.new_context(viewport={"width": 1366, "height": 768})  # a laptop screen
    external: list[str] = []

    def route(r):
        if r.request.url.startswith(server) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            external.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    yield context.new_page()
    context.close()


def visit(pg, base: str, path: str) -> tuple[int, list[str]]:
    """Load ``base + path``; returns (HTTP status, console errors and uncaught exceptions of our own site).

    Errors located at another host (the MathJax CDN, aborted here because the
    test runs offline) are not the site's and are left out.
    """
    errors: list[str] = []

    def on_console(msg):
        where = (msg.location or {}).get("url", "")
        if msg.type == "error" and (where.startswith(base) or not where.startswith("http")):
            errors.append(f"{msg.text} ({where})")

    def on_error(exc):
        errors.append(f"uncaught: {exc}")

    pg.on("console", on_console)
    pg.on("pageerror", on_error)
    try:
        resp = pg.goto(urljoin(base, path), wait_until="load")
        pg.wait_for_timeout(300)  # let deferred scripts run
    finally:
        pg.remove_listener("console", on_console)
        pg.remove_listener("pageerror", on_error)
    return (resp.status if resp else 0), errors


def test_every_toc_page_loads_without_errors_and_images_decode(page, server, site):
    pages = toc_pages()
    assert len(pages) > 10
    for path in pages:
        assert (site / path).exists(), f"{path} is in _toc.yml but was not built"
        status, errors = visit(page, server, path)
        assert status == 200, f"{path}: HTTP {status}"
        assert not errors, f"{path}: JavaScript console errors: {errors}"
        images = page.evaluate("""() => Array.from(document.images).map(i => ({src: i.src.slice(0, 80),
                                   ok: i.complete && i.naturalWidth > 0, alt: i.getAttribute('alt')}))""")
        bad = [i["src"] for i in images if not i["ok"]]
        assert not bad, f"{path}: images that do not decode: {bad}"
        if path.startswith("book/_executed/"):
            no_alt = [i["src"] for i in images if i["src"].startswith("data:image/png") and not i["alt"]]
            assert not no_alt, f"{path}: figures without alt text"


def test_every_internal_link_resolves(page, server, site):
    checked: dict[str, bool] = {}
    anchors: dict[str, set[str]] = {}
    for path in toc_pages() + ["search.html", "genindex.html"]:
        visit(page, server, path)
        hrefs = page.evaluate("() => Array.from(document.querySelectorAll('a[href]')).map(a => a.href)")
        ids = set(page.evaluate("() => Array.from(document.querySelectorAll('[id]')).map(e => e.id)"))
        anchors[urldefrag(page.url)[0]] = ids
        for href in hrefs:
            if not href.startswith(server):
                continue
            target, fragment = urldefrag(href)
            if target not in checked:
                rel = urlparse(target).path.lstrip("/")
                file = site / rel
                checked[target] = file.is_file() or (file.is_dir() and (file / "index.html").is_file())
            assert checked[target], f"{path}: broken link {href}"
            if fragment and target in anchors:
                assert fragment in anchors[target], f"{path}: link {href} to a missing anchor"


def test_notebook_pages_offer_their_ipynb(page, server):
    visit(page, server, RESULTS_PAGE)
    links = page.evaluate("() => Array.from(document.querySelectorAll('a[href$=\".ipynb\"]')).map(a => a.href)")
    assert any(link.endswith("experiment_setup.ipynb") for link in links), links
    resp = page.request.get([x for x in links if x.endswith("experiment_setup.ipynb")][0])
    assert resp.status == 200 and b'"cells"' in resp.body()


def test_search_finds_a_key_term(page, server):
    visit(page, server, f"search.html?q={SEARCH_TERM}")
    page.wait_for_function("() => document.querySelectorAll('#search-results ul.search li').length > 0",
                           timeout=30_000)
    results = page.inner_text("#search-results")
    assert "adversarial_ft" in results or "Section 4" in results, results[:500]


def test_screenshots_for_a_person(page, server):
    folder = Path(os.environ.get("FTLIB_SCREENSHOTS", ROOT / "_build" / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    shots = {"landing.png": "book/intro.html", "results_page.png": RESULTS_PAGE, "scoreboard.png": "book/scoreboard.html"}
    for name, path in shots.items():
        status, _ = visit(page, server, path)
        assert status == 200
        page.screenshot(path=str(folder / name), full_page=True)
        assert (folder / name).stat().st_size > 10_000, name


def test_formulas_render_offline(page, server):
    """MathJax is served by the book itself (sphinx-mathjax-offline): a page with formulas typesets them
    with no request leaving the test server (the ``page`` fixture aborts every other request)."""
    status, errors = visit(page, server, "book/continuous_limit.html")
    assert status == 200 and not errors, errors
    page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0", timeout=30_000)
    scripts = page.evaluate("() => Array.from(document.scripts).map(s => s.src).filter(s => /mathjax/i.test(s))")
    assert scripts and all(s.startswith(server) for s in scripts), scripts
