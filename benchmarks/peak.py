"""Peak memory of a process, as the benchmarks report it.

``ru_maxrss`` is not the peak of the program a process runs: Linux carries the high-water
mark of the memory a process ran in before its ``exec`` over to the program it starts, and a
child started by ``subprocess`` runs in its parent's memory until then. A benchmark holding
800 MB sees each of its children report at least 800 MB, whatever they do (measured: 813 MB for
``python -c pass``). So a child the benchmark writes reports ``VmHWM`` of /proc/self/status,
the high-water mark of its own memory since its ``exec``; a command the benchmark does not
write (``python -m lineage ...``) is run under GNU time, whose own small process is the one the
command's ``exec`` inherits from.
"""

from __future__ import annotations

import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

TIME = Path("/usr/bin/time").exists()  # GNU time


def self_peak_mb() -> float:
    """This process's peak resident memory since its program started, in MiB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: an upper bound


def run_command(args: list[str]) -> tuple[float, float, bytes, float, int]:
    """Run ``args``: wall seconds, peak MiB, stdout, CPU seconds (user + system, every
    thread) and exit code. The peak is GNU time's for the command where /usr/bin/time
    exists, else the child's ``ru_maxrss`` (which counts this process's memory too)."""
    with tempfile.NamedTemporaryFile("r", suffix=".peak") as peak_file:
        wrapped = ["/usr/bin/time", "-f", "%M", "-o", peak_file.name, *args] if TIME else args
        started = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        peak = usage.ru_maxrss / 1024
        if TIME:
            lines = [line for line in Path(peak_file.name).read_text().splitlines() if line]
            if lines and lines[-1].strip().isdigit():
                peak = int(lines[-1]) / 1024
    return wall, peak, out, usage.ru_utime + usage.ru_stime, os.waitstatus_to_exitcode(status)
