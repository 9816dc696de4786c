"""A real `agerec dashboard` on a free localhost port and Debian's headless chromium,
for tests/dashboard/test_browser.py and bench/dashboard_browser.py.

The dashboard runs as its own process group with its own AGEREC_HOME and no broker, so
it starts the embedded local runner; `Dashboard.stop()` ends both (the runner's pid is
in `$AGEREC_HOME/local-runner.lock`). Playwright drives the system chromium through
`executable_path`: never `playwright install`.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Self

from backend.processes import is_alive

# Debian's package puts it at /usr/bin/chromium; AGEREC_CHROMIUM points elsewhere.
CHROMIUM = Path(os.environ.get("AGEREC_CHROMIUM") or "/usr/bin/chromium")
# Headless on a closed network: without the background-networking flags chromium keeps
# trying (and failing) to reach Google's services.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 1000}
START_TIMEOUT_S = 120  # the first start migrates the database and imports streamlit

# Each page's url path (see dashboard/app.py): its st.title, and what shows once its main
# content is drawn: (CSS selector, text it contains, how many visible at least).
PAGES: dict[str, dict] = {
    "launch": {"title": "Launch a job",
               "expect": [('[data-testid="stFormSubmitButton"]', "Submit pipeline job", 1)]},
    "jobs": {"title": "Jobs", "expect": [('[data-testid="stCaptionContainer"]', "Updated", 1)]},
    "results": {"title": "Results",
                "expect": [('[data-testid="stPlotlyChart"]', "Confusion matrix", 1)]},
    "compare": {"title": "Compare runs",
                "expect": [('[data-testid="stPlotlyChart"]', "Accuracy per age group", 1),
                           ('[data-testid="stDataFrame"]', "", 1)]},
    "gallery": {"title": "Explanations", "expect": [('[data-testid="stImage"] img', "", 1)]},
    "present": {"title": "The results in plain words",
                "expect": [("h3", "", 1), ('[data-testid="stPlotlyChart"]', "", 1)]},
    "try": {"title": "Try it live",
            "expect": [('[data-testid="stFileUploaderDropzone"]', "", 1)]},
}

# What still keeps a page from counting as drawn (an empty list once it is): a script run
# in progress, stale elements or skeletons; a visible Plotly chart without its traces (a
# heatmap is an <image>); a visible image not loaded; a visible data frame without its
# canvas; an `expect` entry of the page not showing yet.
_PENDING_JS = """(expect) => {
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main) return ['no main area'];
  const out = [];
  if (document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')) out.push('running');
  if (main.querySelector('[data-stale="true"]')) out.push('stale elements');
  if (main.querySelector('[data-testid="stSkeleton"]')) out.push('skeletons');
  const visible = (sel) => [...main.querySelectorAll(sel)].filter(e => e.checkVisibility());
  for (const chart of visible('[data-testid="stPlotlyChart"]'))
    if (!chart.querySelector('.main-svg .cartesianlayer .trace, .main-svg .heatmaplayer image'))
      out.push('chart not drawn: ' + (chart.querySelector('.gtitle')?.textContent || '?'));
  for (const img of visible('img'))
    if (!img.complete || img.naturalWidth === 0) out.push('image not loaded: ' + img.src);
  for (const frame of visible('[data-testid="stDataFrame"]'))
    if (!frame.querySelector('canvas')) out.push('table without canvas');
  for (const [sel, text, n] of expect)
    if (visible(sel).filter(e => e.textContent.includes(text)).length < n)
      out.push(`fewer than ${n} ${sel} with "${text}"`);
  return out;
}"""


def chromium_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return (f"Debian's chromium not found at {CHROMIUM} (apt-get install chromium; "
                ".ci/run does it)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install -e '.[test]')"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dashboard:
    """`agerec dashboard --port <free> --host 127.0.0.1` on `home`, started and stopped."""

    def __init__(self, home: Path, *, port: int | None = None, log: Path | None = None,
                 read_only: bool = False):
        self.home = Path(home)
        self.read_only = read_only
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log or self.home / "logs" / "dashboard.log"
        self.proc: subprocess.Popen | None = None

    def env(self) -> dict[str, str]:
        env = dict(os.environ, AGEREC_HOME=str(self.home), AGEREC_DASHBOARD_DISPATCH="1",
                   AGEREC_READ_ONLY="1" if self.read_only else "0", PYTHONUNBUFFERED="1")
        for name in ("AGEREC_DATABASE_URL", "AGEREC_BROKER_URL"):
            env.pop(name, None)  # SQLite under home, jobs in the embedded local runner
        return env

    def start(self, timeout: float = START_TIMEOUT_S) -> Self:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        agerec = Path(sys.executable).with_name("agerec")
        cmd = ([str(agerec)] if agerec.exists() else [sys.executable, "-m", "worker.cli"])
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                cmd + ["dashboard", "--port", str(self.port), "--host", "127.0.0.1"],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=self.env(), start_new_session=True)  # its own group: agerec + streamlit
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                self.stop()  # it may have started the local runner before it failed
                raise RuntimeError(f"agerec dashboard exited with {code}:\n" + self.log_tail())
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as reply:
                    if reply.read().strip() == b"ok":
                        return self
            except OSError:
                pass
            time.sleep(0.5)
        self.stop()
        raise TimeoutError(f"agerec dashboard did not answer within {timeout:.0f} s:\n"
                           + self.log_tail())

    def runner_pid(self) -> int | None:
        """The pid of the live local runner of this home, if one is running."""
        lock = self.home / "local-runner.lock"
        text = lock.read_text().strip() if lock.exists() else ""
        if not text.isdigit():
            return None
        try:  # the pid of a runner that has exited may belong to someone else by now
            cmdline = Path(f"/proc/{text}/cmdline").read_bytes().split(b"\0")
            environ = Path(f"/proc/{text}/environ").read_bytes().split(b"\0")
        except OSError:
            return None
        mine = (b"worker.local_runner" in cmdline
                and f"AGEREC_HOME={self.home}".encode() in environ)
        return int(text) if mine and is_alive(int(text)) else None

    def try_service_pid(self) -> int | None:
        """The pid of the live try-it service of this home (the Try it page starts it)."""
        from storage.settings import Settings
        from worker.interactive.client import status

        answer = status(Settings.from_env(self.env()))
        return int(answer["pid"]) if answer else None

    def stop(self) -> None:
        """End the dashboard's process group, the local runner and the try-it service."""
        if self.proc is not None:  # the group may outlive agerec itself (streamlit)
            _end_group(self.proc.pid, reap=self.proc.poll)
            self.proc = None
        runner = self.runner_pid()
        if runner is not None:
            _end_group(runner)
        service = self.try_service_pid()
        if service is not None:  # it leaves on its own once its owner is gone
            _end_group(service)

    def log_tail(self, chars: int = 4000) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        runner_log = self.home / "logs" / "local-runner.log"
        if runner_log.exists():
            text += "\n--- local runner ---\n" + runner_log.read_text(errors="replace")
        return text[-chars:]

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _end_group(pid: int, *, reap=None, grace: float = 10.0) -> None:
    """SIGTERM the process group led by `pid` (each process here leads its own session),
    then SIGKILL what is left of it after `grace` seconds. `reap` collects the leader
    when it is our child, so that it does not linger as a zombie member of the group."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if reap is not None:
                reap()
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


def launch_browser(playwright):
    """Debian's chromium, headless."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                      args=CHROMIUM_ARGS)


def wait_rendered(page, name: str, *, timeout_ms: float = 60_000,
                  expect: list[tuple[str, str, int]] | None = None) -> None:
    """Wait until page `name` of PAGES shows its title and its main content is drawn."""
    spec = PAGES[name]
    page.get_by_role("heading", name=spec["title"], level=1).wait_for(state="visible",
                                                                      timeout=timeout_ms)
    arg = [list(e) for e in (expect if expect is not None else spec["expect"])]
    try:
        page.wait_for_function(f"(expect) => ({_PENDING_JS})(expect).length === 0", arg=arg,
                               timeout=timeout_ms, polling=50)
    except Exception as exc:  # say what was still missing
        raise AssertionError(f"/{name} not drawn within {timeout_ms / 1000:.0f} s: "
                             f"{page.evaluate(_PENDING_JS, arg)}") from exc


def wait_idle(page, *, timeout_ms: float = 60_000) -> None:
    """Wait until no script run is in progress and nothing on the page is stale."""
    busy = ('[data-testid="stStatusWidgetRunningIcon"], [data-stale="true"], '
            '[data-testid="stSkeleton"]')
    page.wait_for_function(f"() => !document.querySelector('{busy}')", timeout=timeout_ms,
                           polling=50)


def choose(page, combobox, option, *, attempts: int = 6, timeout_ms: float = 5_000) -> None:
    """Pick `option` (a name or a compiled pattern) in a Streamlit selectbox.

    Streamlit 1.67's select opens its list on some clicks and only focuses on others,
    and ArrowDown is ignored while the page reruns; so open it by click, then by the
    keyboard, until the option shows."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    wanted = page.get_by_role("option", name=option, exact=isinstance(option, str))
    for attempt in range(attempts):
        wait_idle(page)
        if attempt % 2 == 0:
            combobox.click()
        else:
            combobox.focus()
            page.keyboard.press("ArrowDown")
        try:
            wanted.wait_for(timeout=timeout_ms)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        wanted.click()
        return
    raise AssertionError(f"option {option!r} never showed in {attempts} openings of {combobox}")


def page_exceptions(page) -> list[str]:
    """The text of every Streamlit exception box on the page."""
    return [e.inner_text() for e in page.locator('[data-testid="stException"]').all()]


class Screenshots:
    """Numbered PNGs in `folder`, copied to $AGEREC_SCREENSHOTS/<label> when that is set."""

    def __init__(self, folder: Path, label: str = ""):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        extra = os.environ.get("AGEREC_SCREENSHOTS")
        self.extra = Path(extra) / label if extra else None
        self.taken: list[Path] = []

    def take(self, target, name: str) -> Path:
        """A PNG of a page (its whole scrolling content) or of one element (a locator)."""
        path = self.folder / f"{len(self.taken) + 1:02d}-{re.sub(r'[^a-z0-9-]+', '-', name)}.png"
        if hasattr(target, "goto"):
            _whole_page(target, path)
        else:
            target.screenshot(path=str(path))
        self.taken.append(path)
        if self.extra is not None:
            self.extra.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, self.extra / path.name)
        return path


def _whole_page(page, path: Path) -> None:
    # Streamlit scrolls inside its main area, so a full-page shot of the body shows only
    # the viewport: grow the viewport to the content for the shot, then put it back.
    size = page.viewport_size or VIEWPORT
    height = page.evaluate("""() => Math.max(0, ...[...document.querySelectorAll(
        '[data-testid="stMain"], [data-testid="stMainBlockContainer"]')]
        .map(e => e.scrollHeight))""")
    page.set_viewport_size({"width": size["width"],
                            "height": max(size["height"], min(height + 100, 12_000))})
    page.wait_for_timeout(500)  # Plotly redraws at the new size
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
