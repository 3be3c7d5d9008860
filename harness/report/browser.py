"""Open a report in headless Chromium over the DevTools protocol: console errors, what the
page rendered, and a full-page screenshot.

Chromium runs with its own throw-away profile, no network access beyond file:// (the
report must not need any), and is stopped (by its own process id) when the session ends.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import websocket

from harness.errors import HarnessError

__all__ = ["BrowserSession", "screenshot"]

START_TIMEOUT = 30.0
LOAD_TIMEOUT = 30.0


class BrowserSession:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, chromium: Path, width: int = 1280, height: int = 900) -> None:
        self.chromium, self.width, self.height = chromium, width, height
        self.profile = Path(tempfile.mkdtemp(prefix="harness-chromium-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.ws: websocket.WebSocket | None = None
        self.next_id = 0
        self.console_errors: list[str] = []
        self.requests: list[str] = []

    def __enter__(self) -> BrowserSession:
        self.process = subprocess.Popen(
            [
                str(self.chromium),
                "--headless=new",
                "--no-sandbox",  # root in a VM: Chromium's sandbox refuses to start as root
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                f"--window-size={self.width},{self.height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.ws = websocket.create_connection(self._page_socket(), timeout=LOAD_TIMEOUT)
        for domain in ("Runtime", "Log", "Page", "Network"):
            self.call(f"{domain}.enable")
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.ws is not None:
            self.ws.close()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)

    def _page_socket(self) -> str:
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + START_TIMEOUT
        while not port_file.exists() or not port_file.read_text().strip():
            if self.process is not None and self.process.poll() is not None:
                raise HarnessError(f"chromium exited with {self.process.returncode} on start")
            if time.monotonic() > deadline:
                raise HarnessError(f"chromium did not open its DevTools port in {START_TIMEOUT}s")
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        import urllib.request

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            pages = [p for p in json.loads(r.read()) if p.get("type") == "page"]
        if not pages:
            raise HarnessError("chromium has no page to attach to")
        return str(pages[0]["webSocketDebuggerUrl"])

    def _event(self, message: dict[str, Any]) -> None:
        method, params = message.get("method"), message.get("params", {})
        if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            args = params.get("args", [])
            self.console_errors.append(" ".join(str(a.get("value", a)) for a in args))
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.console_errors.append(
                str(details.get("exception", {}).get("description", details))
            )
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            entry = params["entry"]
            self.console_errors.append(
                f"{entry.get('source')}: {entry.get('text')} {entry.get('url', '')}"
            )
        elif method == "Network.requestWillBeSent":
            self.requests.append(str(params.get("request", {}).get("url", "")))

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """One DevTools command; events that arrive meanwhile are recorded."""
        assert self.ws is not None, "use BrowserSession as a context manager"
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise HarnessError(f"chromium {method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result
            self._event(message)

    def open(self, page: Path) -> None:
        """Load a file and wait for its load event."""
        self.call("Page.navigate", url=page.resolve().as_uri())
        deadline = time.monotonic() + LOAD_TIMEOUT
        while self.evaluate("document.readyState") != "complete":
            if time.monotonic() > deadline:
                raise HarnessError(f"{page} did not finish loading in {LOAD_TIMEOUT}s")
            time.sleep(0.1)
        self.evaluate("1")  # drain the events of the load

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression evaluated in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise HarnessError(f"evaluating {expression[:80]!r}: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def screenshot(self, out: Path, height: int | None = None) -> Path:
        """A PNG of the whole page (beyond the viewport), or of its top ``height`` pixels."""
        if height is None:
            shot = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
        else:
            width = int(self.evaluate("document.documentElement.scrollWidth"))
            clip = {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}
            shot = self.call(
                "Page.captureScreenshot", format="png", captureBeyondViewport=True, clip=clip
            )
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(shot["data"]))
        return out


def screenshot(
    chromium: Path, page: Path, out: Path, width: int = 1280, height: int | None = None
) -> Path:
    """Open the report and write a PNG of it: the whole page, or its top ``height`` px."""
    with BrowserSession(chromium, width=width) as browser:
        browser.open(page)
        return browser.screenshot(out, height)
