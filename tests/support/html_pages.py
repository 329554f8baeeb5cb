"""Read a served HTML page without a browser: its title, its links, and the text of its table
rows (by id), enough to check what a page says and where it leads."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class PageOutline(HTMLParser):
    """``PageOutline.of(html)``: ``title``, ``links`` (every a[href], in order), ``rows`` (the
    whitespace-collapsed text of every <tr> with an id) and ``text`` (all of the body's text)."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.links: list[str] = []
        self.rows: dict[str, str] = {}
        self._parts: list[str] = []
        self._in_title = False
        self._in_code = False  # <style> or <script>: not text
        self._row: str | None = None
        self._row_parts: list[str] = []

    @classmethod
    def of(cls, html: str) -> PageOutline:
        outline = cls()
        outline.feed(html)
        outline.close()
        return outline

    @property
    def text(self) -> str:
        return re.sub(r"\s+", " ", "".join(self._parts)).strip()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "title":
            self._in_title = True
        elif tag in ("style", "script"):
            self._in_code = True
        elif tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"] or "")
        elif tag == "tr" and attributes.get("id"):
            self._row, self._row_parts = attributes["id"], []

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in ("style", "script"):
            self._in_code = False
        elif tag == "tr" and self._row is not None:
            self.rows[self._row] = re.sub(r"\s+", " ", "".join(self._row_parts)).strip()
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
            return
        if self._in_code:
            return
        self._parts.append(data)
        if self._row is not None:
            self._row_parts.append(data)
