"""Shared by scripts/plot-tradeoff and scripts/plot-colocated: the repository root, zksim's
duration strings, and where the zksim binary is."""
import glob
import os
import re
import shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNITS = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def to_ms(text):
    """A zksim duration string ("250ms", "3.5s") in milliseconds."""
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ns|us|ms|s|m|h)\s*", str(text))
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    return float(m.group(1)) * UNITS[m.group(2)]


def find_zksim():
    """The newest build*/tools/cli/zksim of the repository, else zksim on PATH."""
    for pattern in ("build/tools/cli/zksim", "build*/tools/cli/zksim"):
        hits = sorted(glob.glob(os.path.join(ROOT, pattern)), key=os.path.getmtime, reverse=True)
        if hits:
            return hits[0]
    return shutil.which("zksim")
