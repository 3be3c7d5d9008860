"""The report in a real browser: headless Chromium (Debian's package, installed by the
set-up when missing) opens the report of the recorded run with its history; the charts
rendered with data, there are no console errors, nothing was fetched but the file, and the
verdict matrix says what results.json says.

Marked ``browser``; skipped (with the reason) only where Chromium is missing and cannot be
installed (no root, no apt).
"""

from __future__ import annotations

import json
import struct

import pytest

from harness.errors import HarnessError
from harness.host.chromium import ensure_chromium
from harness.report import write_report
from harness.report.browser import BrowserSession, screenshot
from harness.report.matrix import matrix
from tests.unit.report_data import RUN_ID, recorded, reports_dir

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chromium():
    try:
        return ensure_chromium()
    except HarnessError as exc:
        pytest.skip(f"no Chromium and it cannot be installed here: {exc}")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    reports = reports_dir(tmp_path_factory.mktemp("browser"))
    return write_report(recorded(), reports / RUN_ID, reports / "history.jsonl") / "report.html"


@pytest.fixture(scope="module")
def opened(chromium, page):
    with BrowserSession(chromium) as browser:
        browser.open(page)
        yield browser


def test_no_console_errors_and_nothing_fetched(opened, page):
    assert opened.console_errors == []
    assert [u for u in opened.requests if u != page.resolve().as_uri()] == []


def test_charts_rendered_with_data(opened):
    counts = opened.evaluate(
        """JSON.stringify({
          svgs: document.querySelectorAll('svg').length,
          swimlanes: [...document.querySelectorAll('svg.swimlane')].map(
             s => s.querySelectorAll('rect.seg, path.evt').length),
          series: [...document.querySelectorAll('svg.series-chart')].map(
             s => s.querySelectorAll('circle.sample').length),
          sparks: [...document.querySelectorAll('svg.spark')].map(s => +s.dataset.points),
          bars: document.querySelectorAll('svg.mttr-bars rect.bar').length,
          laidOut: [...document.querySelectorAll('svg.chart')].every(
             s => s.getBoundingClientRect().width > 100 && s.getBoundingClientRect().height > 20),
        })"""
    )
    found = json.loads(counts)
    assert found["svgs"] > 20
    assert found["swimlanes"]
    assert all(n > 0 for n in found["swimlanes"])
    assert found["series"]
    assert all(n > 0 for n in found["series"])
    assert sum(found["sparks"]) > 0
    assert found["bars"] > 0
    assert found["laidOut"]


def test_verdict_matrix_matches_results_json(opened):
    shown = json.loads(
        opened.evaluate(
            """JSON.stringify([...document.querySelectorAll('#verdict-matrix tr[data-mechanism]')]
              .map(r => [r.dataset.mechanism, r.dataset.verdict, r.dataset.control,
                         r.dataset.unproven, r.querySelector('.badge').textContent]))"""
        )
    )
    expected = [
        [r.mechanism.id, r.run.status, r.control.status, str(r.unproven).lower(), r.label.upper()]
        for r in matrix(recorded())
    ]
    assert shown == expected


def test_anchors_lead_to_their_sections(opened):
    target = opened.evaluate(
        "document.querySelector('a[href=\"#m-checkpoint_recovery\"]') !== null &&"
        " document.getElementById('m-checkpoint_recovery').textContent.includes('What failed')"
    )
    assert target is True


def test_screenshot_is_a_png_of_the_whole_page(chromium, page, tmp_path):
    out = screenshot(chromium, page, tmp_path / "report.png", width=1000)
    head = out.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    assert width >= 900
    assert height > 3000


def test_a_console_error_would_be_seen(chromium, tmp_path):
    """The check's own negative control: a page that logs an error and throws."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!doctype html><script>console.error('boom'); undefinedCall();</script>")
    with BrowserSession(chromium) as browser:
        browser.open(bad)
        errors = browser.console_errors
    assert any("boom" in e for e in errors)
    assert any("undefinedCall" in e for e in errors)
