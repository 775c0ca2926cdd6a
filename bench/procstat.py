"""CPU time and memory of processes, read from /proc (all threads of a process included)."""

from __future__ import annotations

import os
import resource
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcSample:
    """One reading of a process: CPU seconds (user + system) and resident memory."""

    pid: int
    cpu_seconds: float
    rss_bytes: int


def sample(pid: int) -> ProcSample:
    """Read ``pid``'s utime+stime (fields 14 and 15 of /proc/<pid>/stat) and VmRSS."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name may contain spaces; fields are counted after its closing parenthesis.
    fields = stat[stat.rindex(")") + 2 :].split()
    cpu = (int(fields[11]) + int(fields[12])) / _TICKS
    rss = 0
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
            break
    return ProcSample(pid, cpu, rss)


def self_cpu_seconds() -> float:
    """CPU seconds used so far by this process (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def loadavg() -> str:
    """/proc/loadavg: the 1, 5 and 15 minute load, runnable/total tasks, last pid."""
    return Path("/proc/loadavg").read_text().strip()
