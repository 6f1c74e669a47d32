"""S3's XML, both ways: answers built from nested (tag, content) pairs, request bodies parsed within bounds."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from watchkeeper.s3api.errors import S3Error, malformed_xml

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"

Content = str | int | bool | None | Iterable[tuple[str, "Content"]]


def _fill(parent: ET.Element, content: Content) -> None:
    if content is None:
        return
    if isinstance(content, bool):
        parent.text = "true" if content else "false"
    elif isinstance(content, (str, int)):
        parent.text = str(content)
    else:
        for tag, child in content:
            _fill(ET.SubElement(parent, tag), child)


def render(root: str, content: Content) -> bytes:
    element = ET.Element(root, xmlns=NAMESPACE)
    _fill(element, content)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="utf-8")


def error_body(error: S3Error, resource: str, request_id: str) -> bytes:
    element = ET.Element("Error")
    _fill(element, [("Code", error.code), ("Message", error.message), *error.extra.items(),
                    ("Resource", resource), ("RequestId", request_id)])
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(element, encoding="utf-8")


def parse(body: bytes) -> ET.Element:
    """The body's root element, namespaces dropped. No DTDs: entity tricks are refused outright."""
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise malformed_xml()
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise malformed_xml() from None
    for element in root.iter():
        if isinstance(element.tag, str) and "}" in element.tag:
            element.tag = element.tag.split("}", 1)[1]
    return root


def text(element: ET.Element, tag: str) -> str | None:
    child = element.find(tag)
    return None if child is None else (child.text or "")
