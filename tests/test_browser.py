"""The built smoke-profile site in a real browser: headless Chromium driven by Playwright.

The site (the session's smoke build, see ``book`` in conftest.py, or an already
built site given by ``FTLIB_SITE=/path/to/_build/html``) is served on a loopback
port. Checks: every page of the table of contents loads with HTTP 200 and no
JavaScript console error, every ``<img>`` decodes, every internal link
resolves, the search page finds a paper's key term. As a reader meets the book
(issue 19): no table cell is cut short, the smallest text of every figure
renders at 9 CSS px or more at 1280 px, every checklist id is an anchor and a
link, no page scrolls sideways at 390 px, the phone navigation toggles open
their sidebars, figure captions keep a 4.5 : 1 contrast in dark mode.
Screenshots of the landing page, the scoreboard and one section page per paper
at 1280 px and 390 px, light and dark, are written to ``_build/screenshots/``
of this checkout (or ``FTLIB_SCREENSHOTS``) for a person to look at.

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
SECTION_PER_PAPER = {  # one section page per paper, for the screenshots
    "adversarial_ft": "book/_executed/adversarial_ft/experiment_setup.html",
    "computation_failures": "book/_executed/computation_failures/fault_tolerance.html",
    "continuous_limit": "book/_executed/continuous_limit/certification.html",
    "snn_patterns": "book/_executed/snn_patterns/accuracy.html",
    "beyond": "book/_executed/beyond/spiking.html",
}
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}
MIN_FONT_PX = 8.9  # ftlib.report.MIN_FONT_PX = 9, less rounding
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


def _context(browser, server, viewport=None, dark=False):
    """A browser context that may only reach the test server (every other request is aborted, never sent)."""
    viewport = viewport or {"width": 1366, "height": 768}  # a laptop screen
    context = browser.new_context(viewport=viewport, color_scheme="dark" if dark else "light",
                                  has_touch=viewport["width"] < 600)

    def route(r):
        if r.request.url.startswith(server) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            r.abort()

    context.route("**/*", route)
    return context


@pytest.fixture
def phone(browser, server):
    context = _context(browser, server, PHONE)
    yield context.new_page()
    context.close()


@pytest.fixture
def desktop(browser, server):
    context = _context(browser, server, DESKTOP)
    yield context.new_page()
    context.close()


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


def test_screenshots_for_a_person(browser, server):
    """The landing page, the scoreboard and one section page per paper, at 1280 px and 390 px, light and
    dark: ``<page>-<width>-<mode>.png`` in ``_build/screenshots/``."""
    folder = Path(os.environ.get("FTLIB_SCREENSHOTS", ROOT / "_build" / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    shots = {"landing": "book/intro.html", "scoreboard": "book/scoreboard.html", "status": "book/status.html",
             **{f"section-{k}": v for k, v in SECTION_PER_PAPER.items()}}
    for viewport in (DESKTOP, PHONE):
        for dark in (False, True):
            context = _context(browser, server, viewport, dark)
            pg = context.new_page()
            for name, path in shots.items():
                status, _ = visit(pg, server, path)
                assert status == 200, path
                mode = "dark" if dark else "light"
                assert pg.evaluate("() => document.documentElement.dataset.theme") == mode, (path, mode)
                file = folder / f"{name}-{viewport['width']}-{mode}.png"
                pg.screenshot(path=str(file), full_page=viewport is PHONE or name != "scoreboard")
                assert file.stat().st_size > 10_000, file
            context.close()


def _cells(pg) -> list[str]:
    return pg.evaluate("() => Array.from(document.querySelectorAll('article td, article th'))"
                       ".map(c => c.innerText.trim())")


def test_no_table_cell_is_cut_short(desktop, server):
    for path in toc_pages():
        visit(desktop, server, path)
        cut = [c for c in _cells(desktop) if c.endswith(("…", "...")) and len(c) > 3]
        assert not cut, f"{path}: table cells cut short: {cut[:5]}"
        if path.startswith("book/_executed/"):
            nan = [c for c in _cells(desktop) if c in ("NaN", "nan", "<NA>")]
            assert not nan, f"{path}: {len(nan)} cells show NaN instead of saying what is missing"


def test_figure_text_is_readable_on_a_laptop_screen(desktop, server):
    """The smallest text of every figure renders at >= 9 CSS px at 1280 px: its size (pt, recorded by
    ftlib.report.Report.figure in data-min-font-pt) × dpi / 72 × displayed width / natural width."""
    checked = 0
    for path in toc_pages():
        if not path.startswith("book/_executed/"):
            continue
        visit(desktop, server, path)
        figs = desktop.evaluate("""() => Array.from(document.querySelectorAll('figure.ftlib-figure img')).map(i => ({
            pt: parseFloat(i.dataset.minFontPt), dpi: parseFloat(i.dataset.dpi), shown: i.getBoundingClientRect().width,
            natural: i.naturalWidth, alt: i.alt.slice(0, 60)}))""")
        for f in figs:
            assert f["pt"] == f["pt"] and f["dpi"] == f["dpi"], f"{path}: a figure without its font size: {f}"
            px = f["pt"] * f["dpi"] / 72 * f["shown"] / f["natural"]
            assert px >= MIN_FONT_PX, f"{path}: a figure's smallest text renders at {px:.1f} px: {f}"
            checked += 1
        zoomable = desktop.evaluate("() => document.querySelectorAll('figure.ftlib-figure img.ftlib-zoomable').length")
        assert zoomable == len(figs), f"{path}: figures without click-to-zoom"
    assert checked > 10


def test_a_figure_opens_at_full_resolution(desktop, server):
    visit(desktop, server, RESULTS_PAGE)
    desktop.click("figure.ftlib-figure img")
    big = desktop.evaluate("""() => { const i = document.querySelector('.ftlib-zoom-overlay img');
                                      return i && {shown: i.getBoundingClientRect().width, natural: i.naturalWidth}; }""")
    assert big and abs(big["shown"] - big["natural"]) < 2, big
    desktop.keyboard.press("Escape")
    assert desktop.evaluate("() => document.querySelector('.ftlib-zoom-overlay')") is None


def test_every_checklist_id_is_an_anchor_and_a_link(desktop, server):
    from ftlib import reference
    from ftlib.report import anchor_id

    visit(desktop, server, "book/scoreboard.html")
    ids = set(desktop.evaluate("() => Array.from(document.querySelectorAll('[id]')).map(e => e.id)"))
    links = desktop.evaluate("""() => { const h = Array.from(document.querySelectorAll('h2'))
                                    .find(e => e.innerText.trim().startsWith('At a glance'));
                                return Array.from(h.closest('section').querySelectorAll('table a[href*="#"]'))
                                    .map(a => [a.innerText.trim(), a.href]); }""")
    linked = dict(links)
    for id_ in reference.REFERENCES:
        assert f"sb-{anchor_id(id_)}" in ids, f"scoreboard: {id_} is not an anchor target"
        assert id_ in linked, f"scoreboard: {id_} is not a link in the compact table"
    for id_, href in linked.items():
        visit(desktop, server, href.split(server, 1)[1])
        fragment = href.split("#", 1)[1]
        here = desktop.evaluate("(f) => { const e = document.getElementById(f); return e && e.innerText; }", fragment)
        assert here and id_ in here, f"{href}: no anchor for {id_} on its section page"
        verdict = desktop.evaluate("(f) => document.getElementById(f).querySelector('.ftlib-verdict').innerText",
                                   fragment)
        assert verdict.strip(), f"{href}: the anchor of {id_} gives no verdict"


def test_no_page_scrolls_sideways_on_a_phone(phone, server):
    wide = []
    for path in toc_pages() + ["book/status.html"]:
        visit(phone, server, path)
        width = phone.evaluate("() => document.documentElement.scrollWidth")
        if width > PHONE["width"] + 1:
            culprit = phone.evaluate("""(w) => Array.from(document.querySelectorAll('body *'))
                .filter(e => e.getBoundingClientRect().right > w + 1 && !e.closest('.pst-scrollable-table-container,'
                        + '.ftlib-table-wrap, .output, pre, mjx-container, .highlight, dialog, .bd-sidebar-primary,'
                        + '.bd-sidebar-secondary'))
                .slice(0, 3).map(e => e.tagName + '.' + e.className)""", PHONE["width"])
            wide.append(f"{path}: {width} px ({culprit})")
    assert not wide, "pages that scroll sideways at 390 px:\n" + "\n".join(wide)


def _visible(pg, selector):
    return pg.evaluate("""(s) => Array.from(document.querySelectorAll(s)).findIndex(e => {
        const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 &&
        getComputedStyle(e).visibility !== 'hidden'; })""", selector)


def test_navigation_toggles_open_their_sidebars_on_a_phone(phone, server):
    visit(phone, server, RESULTS_PAGE)
    for toggle, dialog in ((".primary-toggle", "#pst-primary-sidebar-modal"),
                           (".secondary-toggle", "#pst-secondary-sidebar-modal")):
        i = _visible(phone, toggle)
        assert i >= 0, f"no visible {toggle} at 390 px"
        phone.locator(toggle).nth(i).tap()
        phone.wait_for_timeout(300)
        is_open = phone.evaluate("(d) => { const e = document.querySelector(d); return !!(e && e.open); }", dialog)
        assert is_open, f"tapping {toggle} at 390 px does not open {dialog}"
        links = phone.evaluate("(d) => document.querySelector(d).querySelectorAll('a').length", dialog)
        assert links > 0, f"{dialog} opened empty"
        phone.keyboard.press("Escape")
        phone.wait_for_timeout(200)


def _contrast_js() -> str:
    return """(sel) => {
      const rgb = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
      const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
                                   return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
      const bg = (e) => { for (; e; e = e.parentElement) { const c = rgb(getComputedStyle(e).backgroundColor);
                          if (c.length === 3 || (c.length === 4 && c[3] > 0.5)) return c.slice(0, 3); }
                          return [255, 255, 255]; };
      return Array.from(document.querySelectorAll(sel)).map(e => {
        const a = lum(rgb(getComputedStyle(e).color).slice(0, 3)), b = lum(bg(e));
        return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05); });
    }"""


def test_captions_keep_their_contrast_in_dark_mode(browser, server):
    context = _context(browser, server, DESKTOP, dark=True)
    pg = context.new_page()
    try:
        for path in SECTION_PER_PAPER.values():
            visit(pg, server, path)
            assert pg.evaluate("() => document.documentElement.dataset.theme") == "dark"
            ratios = pg.evaluate(_contrast_js(), "figure.ftlib-figure figcaption, .ftlib-provenance, .ftlib-verdicts li")
            assert ratios, f"{path}: no caption found"
            low = [round(r, 2) for r in ratios if r < 4.5]
            assert not low, f"{path}: captions under 4.5 : 1 contrast in dark mode: {low}"
    finally:
        context.close()


def test_section_pages_open_on_their_verdicts_with_set_up_code_collapsed(desktop, server):
    visit(desktop, server, RESULTS_PAGE)
    order = desktop.evaluate("""() => { const h = document.querySelector('article h1'), v = document.getElementById('verdicts-and-why');
        return v && (h.compareDocumentPosition(v) & Node.DOCUMENT_POSITION_FOLLOWING) &&
               v.getBoundingClientRect().top < 900; }""")
    assert order, "the 'Verdicts and why' block is not right after the title"
    text = desktop.inner_text("#verdicts-and-why")
    assert "Computed with the profile" in text and "result record" in text
    hidden = desktop.evaluate("() => document.querySelectorAll('.cell.tag_hide-input').length")
    assert hidden >= 3, "the parameter, injected-parameters and set-up cells are not collapsed"
    record = desktop.evaluate("() => document.querySelector('#verdicts-and-why a[href$=\".json\"]').href")
    resp = desktop.request.get(record)
    assert resp.status == 200 and b'"comparisons"' in resp.body()


def test_formulas_render_offline(page, server):
    """MathJax is served by the book itself (sphinx-mathjax-offline): a page with formulas typesets them
    with no request leaving the test server (the ``page`` fixture aborts every other request)."""
    status, errors = visit(page, server, "book/continuous_limit.html")
    assert status == 200 and not errors, errors
    page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0", timeout=30_000)
    scripts = page.evaluate("() => Array.from(document.scripts).map(s => s.src).filter(s => /mathjax/i.test(s))")
    assert scripts and all(s.startswith(server) for s in scripts), scripts
