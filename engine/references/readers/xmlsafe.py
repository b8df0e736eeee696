"""Safe, line-numbered reading of DJ-library XML (rekordbox, Traktor).

Reference files come from anyone, so XML goes through :mod:`defusedxml` (no entity expansion,
no external DTDs: a "billion laughs" file is refused, not expanded). A SAX handler is used
rather than a tree because it knows the line of every element, so each row and each per-row
error names the line a person can open the file at.
"""

from __future__ import annotations

import xml.sax
from collections.abc import Callable
from pathlib import Path
from urllib.parse import unquote, urlparse

import defusedxml.sax
from defusedxml import DefusedXmlException

from engine.references.readers.model import ReferenceFileError, ReferenceSet, RowError

Attributes = dict[str, str]


class ElementHandler(xml.sax.handler.ContentHandler):
    """Calls ``on_start(name, attributes, line, path)`` for every element; ``path`` is the open parents."""

    def __init__(
        self,
        on_start: Callable[[str, Attributes, int, tuple[str, ...]], None],
        on_end: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__()
        self.on_start, self.on_end = on_start, on_end
        self.stack: list[str] = []
        self.line = 0

    def startElement(self, name: str, attrs: xml.sax.xmlreader.AttributesImpl) -> None:
        locator = getattr(self, "_locator", None)  # set by the parser (xml.sax.handler.ContentHandler)
        self.line = locator.getLineNumber() if locator is not None else 0
        self.on_start(name, dict(attrs.items()), self.line, tuple(self.stack))
        self.stack.append(name)

    def endElement(self, name: str) -> None:
        self.stack.pop()
        if self.on_end is not None:
            self.on_end(name)


def parse_xml(data: bytes, source: str, handler: ElementHandler, result: ReferenceSet, what: str) -> None:
    """Run ``handler`` over ``data``; malformed XML keeps the rows read so far and names the line where it broke.

    Raises :class:`ReferenceFileError` when nothing could be read, or the file uses entities/DTDs.
    """
    try:
        defusedxml.sax.parseString(data, handler)
    except DefusedXmlException as exc:
        raise ReferenceFileError(f"{what} {source}: refused unsafe XML ({exc})") from None
    except xml.sax.SAXParseException as exc:
        if not result.rows:
            raise ReferenceFileError(
                f"{what} {source} is not well-formed XML: line {exc.getLineNumber()}, "
                f"column {exc.getColumnNumber()}: {exc.getMessage()}"
            ) from None
        result.errors.append(
            RowError(
                exc.getLineNumber() or 0,
                f"malformed XML ({exc.getMessage()}); the rest of the file is not read",
                source,
            )
        )


def file_url_to_path(url: str) -> str:
    """``file://localhost/Users/me/A%20B.mp3`` → ``/Users/me/A B.mp3``; ``file:///C:/x`` → ``C:/x``."""
    if not url:
        return ""
    if not url.lower().startswith("file:"):
        return url
    path = unquote(urlparse(url).path)
    if len(path) > 2 and path[0] == "/" and path[2] == ":":  # /C:/Music -> C:/Music
        path = path[1:]
    return path


def name_of(source: str) -> str:
    return Path(source).name
