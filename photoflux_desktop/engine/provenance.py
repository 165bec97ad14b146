"""Provenance metadata: what PhotoFlux writes into every image and reads back.

The same JSON record travels in an XMP packet (all formats), which also carries the
IPTC digital-source-type for diffusion results, so other tools recognise AI media.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import quoteattr

from photoflux_desktop import __version__

if TYPE_CHECKING:
    from photoflux_desktop.engine.request import RenderResult

APP_NAME = "PhotoFlux"
NS_PHOTOFLUX = "https://photoflux.app/ns/1.0/"
NS_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
_MAX_XMP_BYTES = 256 * 1024


def build_record(**fields: Any) -> dict[str, Any]:
    """The provenance record for one written image; None values are dropped."""
    record: dict[str, Any] = {
        "app": APP_NAME,
        "version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    record.update({key: value for key, value in fields.items() if value is not None})
    return record


def result_record(result: RenderResult) -> dict[str, Any]:
    """The provenance record for a finished render (CLI output, library, export)."""
    return build_record(
        style=result.parameters.style,
        # "text-to-image": generated without a photo, so no photo went into it
        mode=result.parameters.mode or "image-to-image",
        backend=result.backend,
        model=result.model,
        seed=result.seed,
        parameters=result.parameters.to_dict(),
        ai_generated=result.ai_generated,
        # what the automatic checks found, so a file carries its own quality report
        checks=list(result.checks) or None,
    )


def to_xmp(record: dict[str, Any]) -> bytes:
    ai = bool(record.get("ai_generated"))
    source_type = (
        f"\n    Iptc4xmpExt:DigitalSourceType={quoteattr(TRAINED_ALGORITHMIC_MEDIA)}" if ai else ""
    )
    params = quoteattr(json.dumps(record, separators=(",", ":"), sort_keys=True))
    tool = quoteattr(f"{APP_NAME} {record.get('version', __version__)}")
    packet = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:Iptc4xmpExt="{NS_IPTC_EXT}"
    xmlns:photoflux="{NS_PHOTOFLUX}"
    xmp:CreatorTool={tool}{source_type}
    photoflux:Params={params}/>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return packet.encode("utf-8")


def from_xmp(packet: bytes | str | None) -> dict[str, Any] | None:
    """The PhotoFlux record inside an XMP packet, or None when there is none."""
    if not packet:
        return None
    raw = packet.encode("utf-8") if isinstance(packet, str) else bytes(packet)
    if len(raw) > _MAX_XMP_BYTES:
        return None
    # ElementTree needs the packet without the xpacket processing instructions
    body = re.sub(rb"<\?xpacket[^>]*\?>", b"", raw).strip(b"\x00 \r\n\t")
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    for element in root.iter():
        params = element.attrib.get(f"{{{NS_PHOTOFLUX}}}Params")
        if params is None:
            continue
        record = _json_value(params)
        if isinstance(record, dict) and record.get("app") == APP_NAME:
            digital_source = element.attrib.get(f"{{{NS_IPTC_EXT}}}DigitalSourceType")
            if digital_source:
                record["digital_source_type"] = digital_source
            return record
    return None


def read_record(path: str | Path, fmt: str | None = None) -> dict[str, Any] | None:
    """The PhotoFlux record a written image carries (XMP, else the PNG text chunk)."""
    from PIL import Image

    with Image.open(path, formats=[fmt] if fmt else None) as image:
        info = dict(image.info)
    record = from_xmp(info.get("xmp") or info.get("XML:com.adobe.xmp"))
    if record is None and isinstance(info.get("photoflux"), str):
        candidate = _json_value(info["photoflux"])
        record = candidate if isinstance(candidate, dict) and candidate.get("app") else None
    return record


def _json_value(text: str) -> Any:
    """JSON from a file someone else may have written, or None when it does not parse.

    A few kilobytes of `[[[[` nest deeper than the parser's recursion limit, which
    raises RecursionError rather than a decode error."""
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None
