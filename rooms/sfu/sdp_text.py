"""Small textual SDP edits around aiortc: mDNS candidates in, advertised address out.

Chromium hides host addresses behind ``<uuid>.local`` mDNS names. aioice would try to
resolve them by multicast (slow, and useless on a server); dropped, the browser's
checks still reach the worker and become peer-reflexive candidates (feasibility
step 2), so nothing is lost. On the way out, EXTERNAL_IP replaces the worker's host
addresses of the same IP family in candidates and ``c=`` lines, for 1:1 NAT
(Membrane's EXTERNAL_IP, Janus' nat_1_1_mapping).
"""

from __future__ import annotations

from ipaddress import ip_address


def _family(address: str) -> int | None:
    try:
        return ip_address(address).version
    except ValueError:
        return None


def is_mdns_candidate(candidate: str) -> bool:
    """True for an ICE candidate (``candidate:...`` or ``a=candidate:...``) on a .local name."""
    fields = candidate.split()
    return len(fields) > 4 and fields[4].lower().endswith(".local")


def strip_mdns_candidates(sdp: str) -> str:
    lines = sdp.split("\r\n")
    return "\r\n".join(
        line for line in lines if not (line.startswith("a=candidate:") and is_mdns_candidate(line))
    )


def candidate_lines(sdp: str) -> list[str]:
    """The ``candidate:...`` values of an SDP, first m-line only (everything is bundled)."""
    found: list[str] = []
    seen_media = 0
    for line in sdp.split("\r\n"):
        if line.startswith("m="):
            seen_media += 1
            if seen_media > 1:
                break
        elif line.startswith("a=candidate:"):
            found.append(line[2:])
    return found


def _rewrite_candidate(line: str, external_ip: str) -> str:
    # RFC 8839: candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...
    fields = line.split(" ")
    if len(fields) < 8 or fields[7] != "host" or _family(fields[4]) != _family(external_ip):
        return line
    fields[4] = external_ip
    return " ".join(fields)


def advertise_external_ip(sdp: str, external_ip: str) -> str:
    """Replace same-family host candidate addresses (and ``c=`` lines) with ``external_ip``."""
    if not external_ip:
        return sdp
    version = _family(external_ip)
    out: list[str] = []
    seen: set[str] = set()
    for line in sdp.split("\r\n"):
        if line.startswith("a=candidate:"):
            line = "a=" + _rewrite_candidate(line[2:], external_ip)
            # Two interfaces of one family map to one address; keep one line per port.
            key = " ".join(line.split(" ")[1:6])
            if key in seen:
                continue
            seen.add(key)
        elif line.startswith(f"c=IN IP{version} "):
            line = f"c=IN IP{version} {external_ip}"
        out.append(line)
    return "\r\n".join(out)


def ice_credentials(sdp: str) -> tuple[str, str] | None:
    """The first (ufrag, pwd) of an SDP; with BUNDLE every m-line carries the same pair."""
    ufrag = pwd = None
    for line in sdp.split("\r\n"):
        if line.startswith("a=ice-ufrag:") and ufrag is None:
            ufrag = line.split(":", 1)[1].strip()
        elif line.startswith("a=ice-pwd:") and pwd is None:
            pwd = line.split(":", 1)[1].strip()
    return (ufrag, pwd) if ufrag and pwd else None


def keep_codecs(sdp: str, wanted: dict[str, str]) -> str:
    """Keep, in each m-line of a CRLF ``sdp``, only the codec ``wanted[kind]`` names (e.g.
    ``{"video": "vp8"}``) and its RTX, with their rtpmap/fmtp/rtcp-fb lines.

    The server forwards one codec per kind and answers with nothing else; a Chrome video
    m-line lists ~25 payload types, and aiortc parses, deep-copies and matches every one of
    them (docs/benchmarks.md "Hostile peers"). An m-line without the wanted codec is left
    as it is: the answer step refuses it with a precise message.
    """
    lines = sdp.split("\r\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("m=")]
    if not starts:
        return sdp
    out = lines[: starts[0]]
    for start, end in zip(starts, [*starts[1:], len(lines)], strict=True):
        out += _keep_section_codecs(lines[start:end], wanted)
    return "\r\n".join(out)


def _keep_section_codecs(section: list[str], wanted: dict[str, str]) -> list[str]:
    head = section[0].split(" ")
    name = wanted.get(head[0][2:])
    if name is None or len(head) < 4:
        return section
    codecs: dict[str, str] = {}  # payload type -> codec name, lower case
    apt: dict[str, str] = {}  # rtx payload type -> the payload type it repairs
    for line in section:
        if line.startswith("a=rtpmap:"):
            pt, _, rest = line[len("a=rtpmap:") :].partition(" ")
            codecs[pt] = rest.split("/", 1)[0].lower()
        elif line.startswith("a=fmtp:") and " apt=" in f" {line}":
            pt, _, params = line[len("a=fmtp:") :].partition(" ")
            for param in params.split(";"):
                key, _, value = param.strip().partition("=")
                if key == "apt":
                    apt[pt] = value
    keep = {pt for pt, codec in codecs.items() if codec == name}
    keep |= {pt for pt, repaired in apt.items() if codecs.get(pt) == "rtx" and repaired in keep}
    if not keep:
        return section
    formats = [pt for pt in head[3:] if pt in keep]
    out = [" ".join(head[:3] + formats)]
    for line in section[1:]:
        for prefix in ("a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"):
            if line.startswith(prefix):
                pt = line[len(prefix) :].split(" ", 1)[0]
                if pt != "*" and pt not in keep:
                    break
        else:
            out.append(line)
    return out
