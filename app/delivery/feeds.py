"""Atom feeds (RFC 4287) of the public delivery updates: the program's newest, and each project's,
for a local paper's feed reader.

Entry ids are the update's permanent address on the site (``{base_url}/projects/N#update-M``), so
they never change when an entry is read again; ``updated`` is when the update was posted. Text is
in the reader's language (Accept-Language), English by default.
"""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree as ET

from app.delivery import projects
from app.delivery.records import FeedEntry
from app.i18n import gettext as _

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"


def _stamp(moment: datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    element.text = text
    return element


def _link(parent: ET.Element, href: str, rel: str, media_type: str = "text/html") -> None:
    ET.SubElement(parent, f"{{{ATOM}}}link", {"href": href, "rel": rel, "type": media_type})


def atom(*, entries: list[FeedEntry], base_url: str, site_name: str, title: str, page: str, feed: str,
         language: str, empty_updated: datetime) -> bytes:
    """The feed document. ``page`` and ``feed`` are paths: the human page and this feed's own address;
    ``empty_updated`` is the feed's date while it has no entries."""
    base = base_url.rstrip("/")
    ET.register_namespace("", ATOM)
    root = ET.Element(f"{{{ATOM}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": language})
    _text(root, "id", f"{base}{feed}")
    _text(root, "title", title)
    _text(root, "updated", _stamp(entries[0].at if entries else empty_updated))
    author = ET.SubElement(root, f"{{{ATOM}}}author")
    _text(author, "name", site_name)
    _text(author, "uri", f"{base}/")
    _link(root, f"{base}{feed}", "self", MEDIA_TYPE)
    _link(root, f"{base}{page}", "alternate")
    _text(root, "generator", "Groundwork")
    for entry in entries:
        item = ET.SubElement(root, f"{{{ATOM}}}entry")
        address = f"{base}/projects/{entry.proposal_id}#update-{entry.update_id}"
        _text(item, "id", address)
        _text(item, "title", _("{project}: {phase}").format(project=entry.project_title,
                                                            phase=projects.phase_label(entry.phase)))
        _text(item, "updated", _stamp(entry.at))
        _text(item, "published", _stamp(entry.at))
        _link(item, address, "alternate")
        _text(item, "content", entry.body, type="text")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)
