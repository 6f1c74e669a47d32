"""Watchkeeper: a self-hosted model monitor that speaks the SageMaker Model Monitor API."""

import os

__version__ = "0.1.0"

# polars' allocator (jemalloc) gives freed pages back to the system after 0.5 s by default, through a lazy
# ("muzzy") stage. A capture job frees and takes back hundreds of MB a second: every give-back flushes the
# TLB of every core, and every page taken back faults. Kept 5 s and given back in one step, a 1M-record JSON
# job took 10 % less CPU for 30 MB more peak memory (bench/README.md). It must be set before polars is
# imported (polars reads it once), so it is here; a value already in the environment wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:5000,muzzy_decay_ms:0")
