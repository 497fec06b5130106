"""The report in a real browser: headless Chromium, with the network closed, loads every
section and decodes every image, and a screenshot shows a drawn page.

Needs Debian's ``chromium`` (``apt-get install chromium``); skipped, saying so, without it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pas.report.html import render_report
from tests.report.test_report import SECTIONS, sample_data

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser")) if p), None)
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)"
)

WIDTH, HEIGHT = 1200, 2400
TIMEOUT_S = 180
# A probe added to a copy of the report (the report itself has no script): after the
# load event it writes what the browser made of the page into the body.
PROBE = """<script>
addEventListener("load", () => {
  document.body.dataset.probe = JSON.stringify({
    sections: [...document.querySelectorAll("section")].map(s => s.id),
    images: [...document.images].map(i => [i.complete, i.naturalWidth, i.naturalHeight]),
    tables: document.querySelectorAll("table").length,
  });
});
</script>"""


def chromium(*args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with every network request refused (a self-contained page needs none)."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # tests may run as root in containers
        "--disable-gpu",
        "--hide-scrollbars",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        "--proxy-server=127.0.0.1:9",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, check=True)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("browser") / "report.html"
    path.write_text(render_report(sample_data()), encoding="utf-8")
    return path


def test_chromium_loads_every_section_and_decodes_every_image(report: Path) -> None:
    probed = report.with_name("probed.html")
    probed.write_text(report.read_text().replace("</body>", PROBE + "</body>"), encoding="utf-8")
    dom = chromium("--virtual-time-budget=10000", "--dump-dom", probed.as_uri()).stdout
    marker = 'data-probe="'
    assert marker in dom, "the probe did not run: the page never finished loading"
    raw = dom.split(marker, 1)[1].split('"', 1)[0]
    found = json.loads(raw.replace("&quot;", '"').replace("&amp;", "&"))
    assert found["sections"] == list(SECTIONS)
    assert len(found["images"]) == 10
    assert all(complete and w > 100 and h > 50 for complete, w, h in found["images"])
    assert found["tables"] >= 4


def test_a_screenshot_shows_a_drawn_page(report: Path) -> None:
    import matplotlib.image as mpimg
    import numpy as np

    shot = report.with_name("report.png")
    chromium(f"--window-size={WIDTH},{HEIGHT}", f"--screenshot={shot}", report.as_uri())
    pixels = np.asarray(mpimg.imread(shot))[:, :, :3]
    assert pixels.shape[:2] == (HEIGHT, WIDTH)
    ink = (pixels < 0.9).any(axis=2).mean()  # share of pixels that are not (near) white
    colours = len(np.unique((pixels * 255).astype(np.uint8).reshape(-1, 3), axis=0))
    assert ink > 0.05 and colours > 50, "the screenshot is (nearly) blank"
