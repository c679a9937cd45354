#!/usr/bin/python3
"""Mechanical hygiene (STYLE.md 15), as tests.

banned SRC: sim/ and models/ use nothing that breaks determinism: no wall clock, no std::
distributions (they differ between standard libraries), no unordered containers (iteration order
depends on hashing and the library), no threads, no libc randomness. tools/ may time campaigns for
their progress lines; the engine and the models may not.

format SRC: every C++ file git tracks is as clang-format (.clang-format) writes it.
"""
import os
import re
import shutil
import subprocess
import sys

BANNED = [
    (r"\bstd::chrono::(system_clock|steady_clock|high_resolution_clock)\b|\b(system_clock|steady_clock|high_resolution_clock)::now\b",
     "a wall clock"),
    (r"\bgettimeofday\s*\(|\bclock_gettime\s*\(|\btime\s*\(\s*(nullptr|NULL|0)\s*\)", "a wall clock"),
    (r"\bstd::\w+_distribution\b", "a std:: distribution (differs between standard libraries)"),
    (r"\bstd::random_device\b|\bstd::rand\s*\(|\bsrand\s*\(|\bstd::(mt19937|default_random_engine)",
     "libc/std randomness (use sim::Rng streams)"),
    (r"\bstd::unordered_(map|set|multimap|multiset)\b|#include\s*<unordered_(map|set)>",
     "an unordered container (iteration order is not ours)"),
    (r"\bstd::(thread|jthread|async)\b|#include\s*<thread>", "a thread inside a run"),
]


def strip_comments(text):
    # Comments may name what is banned (to say why); code may not.
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def banned(src):
    bad = []
    n = 0
    for top in ("sim", "models"):
        for root, _, files in os.walk(os.path.join(src, top)):
            for f in sorted(files):
                if not f.endswith((".h", ".cc")):
                    continue
                path = os.path.join(root, f)
                n += 1
                code = strip_comments(open(path, encoding="utf-8").read())
                for lineno, line in enumerate(code.split("\n"), 1):
                    for pattern, why in BANNED:
                        if re.search(pattern, line):
                            bad.append(f"{os.path.relpath(path, src)}:{lineno}: {why}: {line.strip()}")
    assert n > 20, f"only {n} files under sim/ and models/"
    assert not bad, "banned in sim/ and models/ (STYLE.md 4, 5, 15):\n" + "\n".join(bad)
    print(f"{n} files under sim/ and models/: no wall clock, std:: distribution, unordered "
          "container, thread or libc randomness")


def fmt(src):
    exe = shutil.which("clang-format")
    if not exe:
        print("SKIPPED: clang-format is not installed (./scripts/deps installs it)")
        return
    files = subprocess.run(["git", "ls-files", "*.cc", "*.h"], cwd=src, capture_output=True,
                           text=True)
    if files.returncode != 0:
        print("SKIPPED: not a git checkout, cannot list the tracked sources")
        return
    paths = files.stdout.split()
    assert len(paths) > 50, paths
    p = subprocess.run([exe, "--dry-run", "-Werror", *paths], cwd=src, capture_output=True,
                       text=True)
    wrong = sorted({l.split(":")[0] for l in p.stderr.splitlines() if ": error:" in l})
    assert p.returncode == 0 and not wrong, (
        f"not clang-formatted ({len(wrong)} files; run clang-format -i on them):\n" +
        "\n".join(wrong) + "\n" + p.stderr[-2000:])
    print(f"{len(paths)} C++ files clang-formatted")


if __name__ == "__main__":
    {"banned": banned, "format": fmt}[sys.argv[1]](*sys.argv[2:])
    print("ok")
