#!/usr/bin/python3
"""Assertions on `zksim run` as a user meets it: the --json contract, exit codes and messages,
determinism of every bundled scenario, Perfetto validity, logs and JSONL traces, and the same
trace hashes from a second compiler and build type."""
import difflib
import glob
import json
import os
import re
import subprocess
import sys


def run(zksim, *args, check_rc=None, env=None):
    p = subprocess.run([zksim, "run", *args], capture_output=True, text=True, timeout=600,
                       env=None if env is None else {**os.environ, **env})
    if check_rc is not None and p.returncode != check_rc:
        sys.exit(f"FAIL: zksim run {' '.join(args)} exited {p.returncode}, expected {check_rc}\n"
                 f"stdout:\n{p.stdout[-2000:]}\nstderr:\n{p.stderr[-2000:]}")
    return p


def bundled(src):
    out = []
    for f in sorted(glob.glob(os.path.join(src, "scenarios", "**", "*.json"), recursive=True)):
        if "/gc-models/" in f:
            continue
        out.append(f)
    assert len(out) >= 12, out
    return out


def json_contract(zksim, src):
    scen = os.path.join(src, "scenarios", "ifdown-2022-08-04.json")
    p = run(zksim, scen, "--json")
    assert p.returncode in (0, 1), p.stderr
    j = json.loads(p.stdout)
    for k in ("seed", "trace_hash", "events", "sim_time_ms", "wall_ms", "metrics", "violations"):
        assert k in j, f"missing {k}"
    assert isinstance(j["trace_hash"], str) and len(j["trace_hash"]) == 16
    assert j["events"] > 1000, j["events"]
    assert j["sim_time_ms"] == 90000 or j["sim_time_ms"] > 0
    m = j["metrics"]
    for w in ("dual_leader", "unavailable"):
        for k in ("count", "total_ms", "max_ms"):
            assert isinstance(m["meta"][w][k], (int, float)), (w, k)
    assert isinstance(m["meta"]["leader_changes"], int)
    assert isinstance(m["zk"]["elections"], int) and m["zk"]["elections"] >= 1
    for k in ("count", "total_ms", "max_ms"):
        assert isinstance(m["zk"]["unavailable"][k], (int, float))
    assert isinstance(j["violations"], list)
    # The seed scenario's fixed seed reproduces a dual leader: exit 1, a violation, a real window.
    assert p.returncode == 1 and len(j["violations"]) >= 1, j["violations"]
    assert 366 <= m["meta"]["dual_leader"]["max_ms"] <= 466, m["meta"]["dual_leader"]
    # Rare paths taken (sim/probe.h), every catalogued probe listed: the incident's own story is
    # ZooKeeper expiring the leader's session, then the leader's local timer firing.
    pr = j["probes"]
    assert len(pr) >= 20 and all(isinstance(v, int) for v in pr.values()), pr
    assert pr["zk.session.expired"] >= 1 and pr["meta.timer.fired_leading"] == 1, pr
    assert pr["net.tcp.syn_timeout"] == 0 and pr["zk.sync.trunc"] == 0, pr
    # A ZooKeeper-only scenario has no meta leaders: zeros, and exit 0.
    p = run(zksim, os.path.join(src, "scenarios", "zk", "leader-crash.json"), "--json", check_rc=0)
    j = json.loads(p.stdout)
    assert j["metrics"]["meta"]["dual_leader"]["count"] == 0
    assert j["metrics"]["zk"]["elections"] >= 2  # the first leader and the one after the crash
    assert 100 < j["metrics"]["zk"]["unavailable"]["max_ms"] < 1000, j["metrics"]["zk"]["unavailable"]


def exit_codes(zksim, src, out):
    def bad(doc, fragments, name):
        path = os.path.join(out, name)
        with open(path, "w") as f:
            f.write(doc)
        p = run(zksim, path, check_rc=2)
        for frag in fragments + [name]:
            assert frag in p.stderr, f"{frag!r} not in {p.stderr!r}"
        assert p.stdout.strip() == "" or "timeline" not in p.stdout

    bad('{"duration": "10s", "zk": {"tickTime": "2 s"}}', ["zk.tickTime"], "bad_duration.json")
    bad('{"duration": "10s", "zkk": {}}', ["zkk", "unknown key"], "unknown_key.json")
    bad('{"duration": "10s",\n "faults": [{"at": "1s", "kind": "pause", "target": "zk:9", "for": "1s"}]}',
        ["faults[0].target", "zk:9"], "bad_target.json")
    bad('{\n"duration": "10s"\n"seed": 1}', [":3:", "invalid JSON"], "syntax.json")
    bad('', ["invalid JSON"], "empty.json")
    p = run(zksim, os.path.join(out, "does-not-exist.json"), check_rc=2)
    assert "does-not-exist.json" in p.stderr
    scen = os.path.join(src, "scenarios", "zk", "leader-crash.json")
    p = run(zksim, scen, "--set", "zk.syncLimit=zero", check_rc=2)
    assert "zk.syncLimit" in p.stderr, p.stderr
    p = subprocess.run([zksim, "run", scen, "--seed", "banana"], capture_output=True, text=True)
    assert p.returncode == 2, p.returncode
    p = subprocess.run([zksim, "frobnicate"], capture_output=True, text=True)
    assert p.returncode == 2, p.returncode
    p = run(zksim, scen, "--trace", "/nonexistent-dir/t.jsonl", check_rc=2)
    assert "/nonexistent-dir/t.jsonl" in p.stderr
    # A seed CLI11 would wrap or clamp, a --set that names no field, a trace that cannot be
    # written (a full disk): exit 2 naming the flag or file, never a silently different run.
    for bad in ("-1", "18446744073709551616", "1.5"):
        p = run(zksim, scen, "--seed", bad, check_rc=2)
        assert "--seed" in p.stderr and bad in p.stderr, p.stderr
    p = run(zksim, scen, "--set", ".=5", check_rc=2)
    assert "names no field" in p.stderr, p.stderr
    if os.path.exists("/dev/full"):
        for flag in ("--trace", "--perfetto"):
            p = run(zksim, scen, flag, "/dev/full", check_rc=2)
            assert "/dev/full" in p.stderr and "No space left" in p.stderr, p.stderr
    # A violated check exits 1 and prints how to reproduce it.
    p = run(zksim, scen, "--set", "checks.maxZkUnavailable=1ms", "--seed", "5", check_rc=1)
    assert "VIOLATED" in p.stdout and "reproduce: zksim run" in p.stdout and "--seed 5" in p.stdout
    # The printed command reruns the same run: overrides included (quoted for the shell, here a
    # JSON value with spaces and quotes), so it gives the same trace hash and violation.
    faults = '[{"kind": "pause", "target": "zk:leader", "at": "20s", "for": "9s"}]'
    p = run(zksim, scen, "--seed", "5", "--set", "checks.maxZkUnavailable=1ms", "--set",
            "faults=" + faults, check_rc=1)
    line = [l for l in p.stdout.splitlines() if l.startswith("reproduce: ")][-1]
    assert "checks.maxZkUnavailable=1ms" in line and "9s" in line, line
    cmd = line[len("reproduce: "):]
    assert cmd.startswith("zksim run ")
    q = subprocess.run(f"exec {zksim} run {cmd[len('zksim run '):]} --json", shell=True,
                       capture_output=True, text=True, timeout=600)
    assert q.returncode == 1, (cmd, q.returncode, q.stderr[-1000:])
    a = json.loads(run(zksim, scen, "--seed", "5", "--set", "checks.maxZkUnavailable=1ms",
                       "--set", "faults=" + faults, "--json").stdout)
    b = json.loads(q.stdout)
    assert a["trace_hash"] == b["trace_hash"] and a["violations"] == b["violations"], (a, b)
    p = run(zksim, scen, check_rc=0)
    assert "seed=1 trace_hash=" in p.stdout


def mutants(zksim, src, out, count="200"):
    """Seeded mutants of every bundled scenario: a field set to a hostile value (wrong type,
    negative, huge, empty, unknown target) or to another plausible one (durations, counts, fault
    kinds and targets), or removed. Each run must end within 45 s with exit 0 or 1 (a run:
    seed and trace hash printed) or 2 (bad input: a message naming the file), never a crash, a
    sanitizer report or a hang. The first hang this found: an even ensemble with the meta
    leader's interface down looped forever at one instant (the C client's spin)."""
    import random
    rng = random.Random(20261207)
    hostile = [-1, 0, 2, 65536, -9223372036854775808, 9223372036854775807, 1e308, -1e308,
               1e-300, 0.5, "", "x", "-5s", "0s", "1ns", "999999h", "1e400ms", "nan", "5",
               "5 s", "9223372036854775807ns", None, [], {}, True, [1, 2], {"a": 1},
               "zk:leader", "meta:leader", "zk:99", "node9", "meta:node1"]
    plausible_durations = ["0ms", "1ms", "10ms", "100ms", "500ms", "1s", "2s", "4s", "7s",
                           "10s", "60s", "300s"]
    kinds = ["ifdown", "partition", "cut", "latency", "loss", "pause", "crash", "sigstop"]
    targets = ["zk:leader", "meta:leader", "zk:1", "zk:2", "meta:node1", "node1", "node2"]

    def absolutize(doc, base_dir):
        # Model files named relative to the scenario keep resolving from the mutant's folder.
        if isinstance(doc, dict):
            return {k: absolutize(v, base_dir) for k, v in doc.items()}
        if isinstance(doc, list):
            return [absolutize(v, base_dir) for v in doc]
        if isinstance(doc, str) and doc.endswith(".json"):
            cand = os.path.join(base_dir, doc)
            if os.path.exists(cand):
                return cand
        return doc

    def paths(doc, prefix=()):
        if isinstance(doc, dict):
            for k, v in doc.items():
                yield prefix + (k,), v
                yield from paths(v, prefix + (k,))
        elif isinstance(doc, list):
            for i, v in enumerate(doc):
                yield prefix + (i,), v
                yield from paths(v, prefix + (i,))

    bases = bundled(src)
    cases = []
    for i in range(int(count)):
        base = bases[i % len(bases)]
        with open(base) as f:
            doc = absolutize(json.load(f), os.path.dirname(base))
        muts = []
        for _ in range(rng.choice([1, 1, 2, 3])):
            cand = list(paths(doc))
            where, cur = rng.choice(cand)
            parent = doc
            for k in where[:-1]:
                parent = parent[k]
            if rng.random() < 0.1:
                del parent[where[-1]]
                muts.append((where, "<removed>"))
                continue
            if rng.random() < 0.5:
                if isinstance(cur, str) and cur[:1].isdigit():
                    new = rng.choice(plausible_durations)
                elif isinstance(cur, bool):
                    new = not cur
                elif isinstance(cur, int):
                    new = rng.choice([0, 1, 2, 3, 4, 5, 6, 9, 100])
                elif where[-1] == "kind":
                    new = rng.choice(kinds)
                elif where[-1] == "target":
                    new = rng.choice(targets)
                else:
                    new = rng.choice(hostile)
            else:
                new = rng.choice(hostile)
            parent[where[-1]] = new
            muts.append((where, new))
        cases.append((base, muts, doc))
    # The hang this check found, pinned: two and four peers, the meta leader's interface down.
    with open(os.path.join(src, "scenarios", "ifdown-2022-08-04.json")) as f:
        doc = absolutize(json.load(f), os.path.join(src, "scenarios"))
    del doc["zk"]["peers"][1]
    cases.append(("ifdown-2022-08-04.json", [(("zk", "peers", 1), "<removed>")], doc))
    ran = {0: 0, 1: 0, 2: 0}
    for n, (base, muts, doc) in enumerate(cases):
        path = os.path.join(out, f"mutant-{n}.json")
        with open(path, "w") as f:
            json.dump(doc, f)
        what = f"mutant {n} of {os.path.relpath(base, src)}: {muts}"
        try:
            # 45 s: the slowest mutant takes a few seconds under the sanitizers; the hang this
            # found grew by ~250 MB a second, so the limit also bounds a regression's memory.
            p = subprocess.run([zksim, "run", path, "--max-lines", "3"], capture_output=True,
                               text=True, timeout=45)
        except subprocess.TimeoutExpired:
            sys.exit(f"FAIL: {what}: no end within 45 s (a hang)")
        if p.returncode not in (0, 1, 2):
            sys.exit(f"FAIL: {what}: exit {p.returncode}\n{p.stderr[-3000:]}")
        for bad in ("Sanitizer", "runtime error", "terminate called", "what():", "Traceback"):
            if bad in p.stderr:
                sys.exit(f"FAIL: {what}: {bad!r} in stderr\n{p.stderr[-3000:]}")
        if p.returncode == 2:
            if f"mutant-{n}.json" not in p.stderr:
                sys.exit(f"FAIL: {what}: exit 2 without naming the file\n{p.stderr[-2000:]}")
        elif "trace_hash=" not in p.stdout:
            sys.exit(f"FAIL: {what}: exit {p.returncode} without a seed and trace hash")
        ran[p.returncode] += 1
        os.remove(path)
    # Enough of them must run, or the check only exercises the loader.
    assert ran[0] + ran[1] >= len(cases) // 10, ran
    print(f"{len(cases)} mutants: {ran[0]} ran clean, {ran[1]} violated a check, "
          f"{ran[2]} refused as bad input")


# Makes glibc choose the variants of its math functions a CPU without FMA and AVX2 runs.
NO_FMA = {"GLIBC_TUNABLES": "glibc.cpu.hwcaps=-FMA,-AVX2"}


def determinism(zksim, src, out):
    for scen in bundled(src):
        a = json.loads(run(zksim, scen, "--json").stdout)
        b = json.loads(run(zksim, scen, "--json").stdout)
        assert a["trace_hash"] == b["trace_hash"], scen
        assert a["metrics"] == b["metrics"], scen
        c = json.loads(run(zksim, scen, "--json", "--seed", str(a["seed"] + 1)).stdout)
        assert c["trace_hash"] != a["trace_hash"], f"{scen}: seeds {a['seed']} and {a['seed'] + 1} give the same trace"
        # glibc picks its log/exp/pow/cos by CPU (FMA or not) and they differ in the last bit
        # about once in 1,500 calls (measured 2026-12-07, glibc 2.36): draws become integer
        # nanoseconds, so a trace must not depend on which one ran. Same hash with the non-FMA ones.
        d = json.loads(run(zksim, scen, "--json", env=NO_FMA).stdout)
        assert d["trace_hash"] == a["trace_hash"], f"{scen}: {a['trace_hash']} (libm as picked) vs {d['trace_hash']} ({NO_FMA})"
    fma = any("fma" in l.split() for l in open("/proc/cpuinfo") if l.startswith("flags"))
    print("libm: FMA variants (this CPU's) against the non-FMA ones" if fma else
          "libm: this CPU has no FMA, so both runs used the same variants (the check compared nothing)")
    # The JSONL file is byte-identical between two runs, and its hash is the printed one.
    scen = os.path.join(src, "scenarios", "ifdown-2022-08-04.json")
    t1, t2 = os.path.join(out, "d1.jsonl"), os.path.join(out, "d2.jsonl")
    j1 = json.loads(run(zksim, scen, "--json", "--trace", t1).stdout)
    run(zksim, scen, "--json", "--trace", t2)
    with open(t1, "rb") as f1, open(t2, "rb") as f2:
        b1 = f1.read()
        assert b1 == f2.read()
    h = 0xcbf29ce484222325
    for byte in b1:
        h ^= byte
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    assert f"{h:016x}" == j1["trace_hash"], (f"{h:016x}", j1["trace_hash"])
    assert b1.count(b"\n") == j1["records"]


def perfetto(zksim, src, out, checker):
    for name in ("ifdown-2022-08-04.json", "zk/leader-crash.json", "zk/partition-minority.json"):
        path = os.path.join(out, name.replace("/", "_") + ".perfetto.json")
        run(zksim, os.path.join(src, "scenarios", name), "--perfetto", path, "--messages", "--json")
        p = subprocess.run([checker, path], capture_output=True, text=True)
        assert p.returncode == 0, p.stdout[-3000:]
        doc = json.load(open(path))
        phases = {e["ph"] for e in doc["traceEvents"]}
        assert {"M", "b", "e", "s", "f"} <= phases, phases
    # --messages traces every message: clients' requests and the servers' replies, elections'
    # notifications and the Zab traffic between leader and followers.
    t = os.path.join(out, "messages.jsonl")
    run(zksim, os.path.join(src, "scenarios", "ifdown-2022-08-04.json"), "--trace", t,
        "--messages", "--json")
    sent = {json.loads(l).get("msg") for l in open(t) if '"net.send"' in l}
    want = {"Ping", "Request", "ConnectRequest", "ConnectResponse", "Reply", "zk.notification",
            "FOLLOWERINFO", "LEADERINFO", "ACKEPOCH", "DIFF", "NEWLEADER", "UPTODATE", "PROPOSAL",
            "ACK", "COMMIT", "PING"}
    assert want <= sent, want - sent


def logs(zksim, src, out):
    scen = os.path.join(src, "scenarios", "zk", "leader-pause-12s.json")
    d = os.path.join(out, "logs")
    t = os.path.join(out, "logs.jsonl")
    run(zksim, scen, "--logs", d, "--trace", t, "--json")
    recs = [json.loads(l) for l in open(t)]
    assert all(isinstance(r["t"], int) and "type" in r and "node" in r for r in recs)
    times = [r["t"] for r in recs]
    assert times == sorted(times)
    exc = [r for r in recs if r["type"] == "zk.follower.exception"]
    assert len(exc) == 4, len(exc)
    # The seed's grep habit on the simulated logs counts the same exceptions.
    n = 0
    for root, _, files in os.walk(d):
        for f in files:
            if f.startswith("zookeeper.log"):
                n += sum(1 for l in open(os.path.join(root, f)) if "Exception when following the leader" in l)
    assert n == 4, n


def cross_build(zksim, src, build_dir):
    # Same hashes from clang in Debug (no optimisation) as from the main build (gcc, optimised).
    cfg = ["cmake", "-G", "Ninja", "-S", src, "-B", build_dir, "-DCMAKE_BUILD_TYPE=Debug",
           "-DCMAKE_CXX_COMPILER=clang++", "-DZKSIM_TESTS=OFF", "-DZKSIM_BENCH=OFF"]
    subprocess.run(cfg, check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", build_dir, "zksim"], check=True, stdout=subprocess.DEVNULL)
    other = os.path.join(build_dir, "tools", "cli", "zksim")
    for scen in bundled(src):
        a = json.loads(run(zksim, scen, "--json").stdout)
        b = json.loads(run(other, scen, "--json").stdout)
        assert a["trace_hash"] == b["trace_hash"], f"{scen}: {a['trace_hash']} (main) vs {b['trace_hash']} (clang Debug)"
        print(f"{os.path.relpath(scen, src)}: {a['trace_hash']} on both builds")


# ---- pinned fingerprints and golden timelines (STYLE.md 7 and 11) ---------------------------
# Behaviour changes show up in review: every bundled scenario's trace hash, event and record counts
# at its own seed, a short fuzz campaign's failing runs, and the printed timeline of three key
# scenarios are pinned in tests/golden/. A change that alters them fails here until the files are
# rewritten (`cli_check.py golden ZKSIM SRC --rewrite`) and the diff is reviewed with the change.
GOLDEN_TIMELINES = ["scenarios/ifdown-2022-08-04.json", "scenarios/zk/leader-crash.json",
                    "scenarios/zk/partition-minority.json"]
GOLDEN_FUZZ = ["--scenario", "scenarios/fuzz/perf-5x5-gc-120s.json", "--runs", "300", "--jobs", "1",
               "--bench"]


def golden_timeline(zksim, src, rel):
    p = subprocess.run([zksim, "run", rel], capture_output=True, text=True, timeout=600, cwd=src)
    assert p.returncode in (0, 1), p.stderr
    # The one line that depends on the machine: wall time and speed.
    return re.sub(r" wall=\S+ \(\S+ real time\)", "", p.stdout)


def golden_fuzz(zksim, src):
    p = subprocess.run([zksim, "fuzz", *GOLDEN_FUZZ], capture_output=True, text=True, timeout=600,
                       cwd=src)
    assert p.returncode in (0, 1), p.stderr
    out = p.stdout + p.stderr
    m = re.search(r"(\d+) runs in .* (\d+) engine events/run", out)
    fails = re.findall(r"P\d [^:]*: \d+ failing run\(s\).*", out)
    assert m, out
    return f"zksim fuzz {' '.join(GOLDEN_FUZZ)}\t{m.group(1)} runs\t{m.group(2)} events/run\t" + \
        " | ".join(fails)


def golden(zksim, src, *flags):
    rewrite = "--rewrite" in flags
    gdir = os.path.join(src, "tests", "golden")
    lines = ["# scenario (from the repository root)\tseed\ttrace_hash\tevents\trecords"]
    for scen in bundled(src):
        j = json.loads(run(zksim, scen, "--json").stdout)
        lines.append(f"{os.path.relpath(scen, src)}\t{j['seed']}\t{j['trace_hash']}\t{j['events']}\t"
                     f"{j['records']}")
    lines.append(golden_fuzz(zksim, src))
    files = {"fingerprints.tsv": "\n".join(lines) + "\n"}
    for rel in GOLDEN_TIMELINES:
        stem = os.path.relpath(rel, "scenarios").replace("/", "_").removesuffix(".json")
        files[f"{stem}.timeline.txt"] = golden_timeline(zksim, src, rel)
    if rewrite:
        os.makedirs(gdir, exist_ok=True)
        for name, text in files.items():
            with open(os.path.join(gdir, name), "w") as f:
                f.write(text)
        print(f"rewrote {len(files)} files in {gdir}: review `git diff tests/golden` with the change")
        return
    bad = []
    for name, text in files.items():
        path = os.path.join(gdir, name)
        want = open(path).read() if os.path.exists(path) else ""
        if want != text:
            diff = difflib.unified_diff(want.splitlines(), text.splitlines(), f"pinned {name}",
                                        "this build", lineterm="", n=1)
            bad.append("\n".join(list(diff)[:60]))
    assert not bad, ("behaviour changed from what tests/golden pins:\n" + "\n".join(bad) +
                     "\nIf the change is intended: /usr/bin/python3 tests/cli/cli_check.py golden "
                     "build/tools/cli/zksim . --rewrite, and review the diff with the change.")
    print(f"{len(files)} golden files match ({len(lines) - 2} scenario fingerprints, a fuzz campaign, "
          f"{len(GOLDEN_TIMELINES)} timelines)")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"json-contract": json_contract, "exit-codes": exit_codes, "determinism": determinism,
     "perfetto": perfetto, "logs": logs, "cross-build": cross_build, "golden": golden,
     "mutants": mutants}[cmd](*args)
    print("ok")
