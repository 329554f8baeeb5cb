"""What dashboard browser tests check a page with and keep of it: the viewports they open pages
in (``DESKTOP``, ``PHONE``), the accessibility basics every page must pass (``check_page``), and
``screenshot``, which checks a page and then saves it for the docs (docs/img, only when
OBFBROKER_UPDATE_SCREENSHOTS=1; a scratch folder otherwise)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

# The docs' screenshots are rewritten only when asked (OBFBROKER_UPDATE_SCREENSHOTS=1), so a
# plain test run leaves the work tree clean; otherwise they go to a scratch folder.
SCREENSHOTS = (Path(__file__).resolve().parents[2] / "docs" / "img"
               if os.environ.get("OBFBROKER_UPDATE_SCREENSHOTS") == "1"
               else Path(tempfile.gettempdir()) / "obfbroker-screenshots")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


# The accessibility basics every page must pass (axe-style, kept small): a language, one h1, a
# main landmark, a label for every control and a name for every button and link.
PAGE_PROBLEMS_JS = """() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push("no lang on <html>");
  if (document.querySelectorAll("h1").length !== 1) problems.push("not exactly one h1");
  if (!document.querySelector("main")) problems.push("no <main>");
  for (const el of document.querySelectorAll("input, select, textarea")) {
    if (el.type === "hidden") continue;
    const labelled = (el.labels && el.labels.length) || el.getAttribute("aria-label");
    if (!labelled) problems.push("unlabelled " + el.outerHTML);
  }
  for (const el of document.querySelectorAll("button, a[href]")) {
    if (!el.textContent.trim() && !el.getAttribute("aria-label")) problems.push("nameless " + el.outerHTML);
  }
  return problems;
}"""


def check_page(page: Any) -> None:
    problems = page.evaluate(PAGE_PROBLEMS_JS)
    assert not problems, problems


def screenshot(page: Any, name: str) -> None:
    """A full-page screenshot for the docs: docs/img/dashboard-<name>.png (after the page
    passes the accessibility basics)."""
    check_page(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"dashboard-{name}.png"), full_page=True)
