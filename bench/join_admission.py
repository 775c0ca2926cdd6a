"""What deciding a join costs on the web side: a PIN check and a token check.

``python -m bench.join_admission [--rounds N] [--out FILE]``: checks a wrong PIN against
a room's stored hash (Django's default hasher, as ``Room.set_pin`` stores it) and
verifies signed join tokens (rooms.tokens), timing each in this process, with the
machine's load average. The PIN figure sets the per-address bounds on failed attempts
(docs/protocol.md, "Bounds and refusals (web side)"); figures in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any


def measure(rounds: int) -> dict[str, Any]:
    from django.contrib.auth.hashers import check_password, make_password

    from rooms import tokens

    encoded = make_password("482913")
    pin_seconds = []
    for _ in range(rounds):
        started = time.perf_counter()
        check_password("000000", encoded)
        pin_seconds.append(time.perf_counter() - started)
    token = tokens.issue("alpha", "bench", display_name="Bench", ttl=600)
    token_rounds = rounds * 1000
    started = time.perf_counter()
    for _ in range(token_rounds):
        tokens.verify(token, "alpha")
    token_seconds = (time.perf_counter() - started) / token_rounds
    return {
        "hasher": encoded.split("$", 2)[0] + " " + encoded.split("$", 2)[1],
        "pin_check_seconds": {
            "median": statistics.median(pin_seconds),
            "min": min(pin_seconds),
            "max": max(pin_seconds),
            "rounds": rounds,
        },
        "token_verify_microseconds": token_seconds * 1e6,
        "load_average": os.getloadavg(),
        "cpus": os.cpu_count(),
        "at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "videoroom_project.settings")
    import django

    django.setup()
    result = measure(args.rounds)
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
