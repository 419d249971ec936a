"""backend.retain_freed_memory: freed arrays stay in the process (glibc), observed through RSS."""

import os
import platform
import subprocess
import sys

import pytest

from chainrule import backend

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# Allocates and frees a 24 MiB array (under the 32 MiB threshold) and prints how much the
# process's resident memory dropped on the free: about 0 when freed memory is retained,
# about 24 MiB when glibc hands the block back to the kernel.
PROBE = """
import os, numpy as np, chainrule
def rss_mib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
a = np.ones(6 * 2**20, dtype=np.float32)
held = rss_mib()
del a
print(held - rss_mib())
"""


def _released_by_free(env_value):
    env = dict(os.environ)
    env.pop(backend.RETAIN_MEMORY_ENV, None)
    if env_value is not None:
        env[backend.RETAIN_MEMORY_ENV] = env_value
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return float(out.stdout.strip())


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_import_retains_freed_memory_unless_disabled():
    assert _released_by_free(None) < 4  # the freed 24 MiB stay mapped, ready for reuse
    assert _released_by_free("0") > 20  # glibc's defaults: returned to the kernel
    assert _released_by_free("off") > 20


@pytest.mark.skipif(not GLIBC, reason="mallopt is glibc's")
def test_retain_freed_memory_reports_success_and_can_be_undone():
    assert backend.retain_freed_memory(False) is True
    assert backend.retain_freed_memory(True) is True


def test_retain_freed_memory_is_a_no_op_without_glibc(monkeypatch):
    monkeypatch.setattr(platform, "libc_ver", lambda *args, **kwargs: ("musl", "1.2"))
    assert backend.retain_freed_memory() is False
