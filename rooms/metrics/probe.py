"""``python -m rooms.metrics.probe URL``: exit 0 if URL answers 2xx within 5 s, else 1.

The compose HEALTHCHECKs run it inside the image, which has no curl. It imports
nothing of Django, so a probe costs milliseconds. The request carries
``Host: localhost`` (which DJANGO_ALLOWED_HOSTS must list) and bypasses any proxy.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 5.0


def probe(url: str) -> tuple[bool, str]:
    request = urllib.request.Request(url, headers={"Host": "localhost"})
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            return 200 <= response.status < 300, response.read(2000).decode(errors="replace")
    except urllib.error.HTTPError as error:
        return False, f"{error.code} {error.read(2000).decode(errors='replace')}"
    except OSError as error:
        return False, str(error)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m rooms.metrics.probe URL", file=sys.stderr)
        return 2
    ok, detail = probe(argv[0])
    print(detail.strip())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
