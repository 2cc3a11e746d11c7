"""What a benchmark client measures of its own process, with the standard library only:
``clients.py`` (aioscard's venv) and ``pyscard_clients.py`` (pyscard's) both import it."""

from __future__ import annotations

import os
import resource


def cpu_seconds() -> float:
    """User + system CPU of this whole process (every thread)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def kernel_usage() -> tuple[float, int]:
    """System CPU seconds and context switches of this whole process so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_stime, usage.ru_nvcsw + usage.ru_nivcsw


def rss_kib() -> int:
    """Resident set size of this process, KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def os_threads() -> int:
    """Threads of this process as the OS counts them."""
    return len(os.listdir("/proc/self/task"))


def socket_fds() -> int:
    """Open socket file descriptors of this process (libpcsclite: one per context)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        # A try per item: a descriptor may close while being looked at.
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:  # noqa: PERF203
            pass
    return count
