#!/usr/bin/python3
"""Assertions on the meta scenarios (tests/cli/CMakeLists.txt, meta_scenarios_* tests).

  meta_scenarios_check.py seed1 ZKSIM SCENARIO           the fixed seed reproduces 416 +- 50 ms
  meta_scenarios_check.py study FILE.json                1000-seed ifdown study bounds
  meta_scenarios_check.py timer200 FILE.json [--all]     200 ms timer: no dual leader, failovers
  meta_scenarios_check.py incident ZKSIM SCENARIO TMPDIR 2025 storm + the seed's grep pipelines
  meta_scenarios_check.py incident-port ZKSIM SCENARIO TMPDIR  the port-2888 variant, seeds 1..16
Exits 1 with a message on the first failed assertion.
"""
import glob
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "studies"))
import meta_studies  # noqa: E402
import incident_2025_port_study  # noqa: E402

failed = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failed.append(what)


def seed1(zksim, scenario):
    with open(scenario) as f:
        doc = json.load(f)
    zk_hosts = {f"zk:{p['id']}": p["host"] for p in doc["zk"]["peers"]}
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        res, recs = meta_studies.run_one(zksim, scenario, doc["seed"], [], tmp)
    o = meta_studies.analyse(res, recs, zk_hosts)
    print(json.dumps(o, indent=1))
    check(o["outcome"] == "overlap", "the scenario's seed gives two leaders")
    check(abs(o.get("overlap_ms", 0) - 416) <= 50, f"overlap {o.get('overlap_ms')} ms is 416 +- 50")
    check(o.get("seed_order") is True, "order: client timeout -> timer start -> new leader "
          "elsewhere -> old leader stops on its local timer")
    check(abs(o["t_stop_s"] - o["t_timer_s"] - 3.6) < 1e-3, "old leader stops 3600 ms after its "
          "timer started")
    dual = res["metrics"]["meta"]["dual_leader"]
    check(dual["count"] == 1 and abs(dual["max_ms"] - o["overlap_ms"]) < 1,
          "--json metrics.meta.dual_leader reports that one window")
    check(not o["zk_leader_colocated"], "the ZooKeeper leader is on another host, as in the seed")


def study(path):
    with open(path) as f:
        s = json.load(f)["ifdown"]
    a, e = s["all"], s["zk_leader_elsewhere"]
    check(a["runs"] == 1000, "1000 seeds")
    check(0.40 <= a["p_dual"] <= 0.62, f"P(dual leader) over all seeds {a['p_dual']} in [0.40, 0.62]")
    check(0.62 <= e["p_dual"] <= 0.86,
          f"P(dual leader), ZooKeeper leader elsewhere {e['p_dual']} in [0.62, 0.86]")
    check(len(a["gaps_220_270ms"]) >= 5, f"gaps of 220-270 ms occur ({len(a['gaps_220_270ms'])})")
    check(len(a["seeds_416_pm_50_in_order"]) >= 10,
          f"overlaps of 416+-50 ms in the seed's order occur ({len(a['seeds_416_pm_50_in_order'])})")
    # E > last touch at the ZooKeeper leader + ST >= t_r - ST/3 + ST = the client's timeout, so the
    # new leader comes after the old one's timer started: an overlap is always shorter than LT.
    check(a["overlap_ms"]["max"] < 3600, f"overlap shorter than the local timer "
          f"({a['overlap_ms']['max']:.0f} ms < 3600 ms)")


def timer200(path, all_seeds):
    with open(path) as f:
        r = json.load(f)
    t = r["timer200"]
    check(t["all"]["runs"] == 1000, "1000 seeds")
    if all_seeds:
        check(t["all"]["dual_leader_runs"] == 0,
              f"no dual leader in any of 1000 seeds ({t['all']['dual_leader_runs']})")
    else:
        check(t["zk_leader_elsewhere"]["dual_leader_runs"] == 0,
              f"no dual leader when the ZooKeeper leader is elsewhere "
              f"({t['zk_leader_elsewhere']['dual_leader_runs']} of {t['zk_leader_elsewhere']['runs']})")
    check(t["all"]["outcomes"].get("overlap", 0) == 0, "no run starts with an overlap")
    b, p = r["blip"]["1s"], r["pause"]["500ms"]
    check(b["runs"] == 1000 and b["failovers_total"] == 0,
          f"a 1 s blip of the meta leader's host causes no failover ({b['failovers_total']})")
    check(p["runs"] == 1000 and p["failovers_total"] == 0,
          f"a 500 ms pause of the meta's ZooKeeper server causes no failover ({p['failovers_total']})")


def looking_cycles(recs):
    cycles = 0
    for node in [f"zk:{i}" for i in range(1, 6)]:
        seq = [(r["state"], r["phase"]) for r in recs if r["type"] == "zk.state" and r["node"] == node]
        for k in range(len(seq) - 3):
            if (seq[k][0] == "LOOKING" and seq[k + 1][0] == "FOLLOWING"
                    and seq[k + 2] == ("FOLLOWING", "discovery") and seq[k + 3][0] == "LOOKING"):
                cycles += 1
    return cycles


def doc_seed(scenario):
    with open(scenario) as f:
        return json.load(f)["seed"]


def incident(zksim, scenario, tmp):
    logs = os.path.join(tmp, "logs")
    trace = os.path.join(tmp, "trace.jsonl")
    p = subprocess.run([zksim, "run", scenario, "--json", "--trace", trace, "--logs", logs],
                       capture_output=True, text=True)
    check(p.returncode in (0, 1), f"zksim run exits 0/1 ({p.returncode}) {p.stderr.strip()}")
    res = json.loads(p.stdout)
    recs = [json.loads(l) for l in open(trace)]
    exc = {}
    for r in recs:
        if r["type"] == "zk.follower.exception":
            exc[r["node"]] = exc.get(r["node"], 0) + 1
    # The seed's pipeline, with grep for rg and find for fd:
    # rg -I 'Exception when following the leader' $(fd zookeeper.log) | grep '07-20T' | grep 'myid=N' | wc -l
    files = sorted(glob.glob(os.path.join(logs, "**", "zookeeper.log*"), recursive=True))
    check(len(files) == 5, f"one zookeeper.log per host ({len(files)})")
    for i in range(1, 6):
        cmd = ("grep -h 'Exception when following the leader' " + " ".join(files) +
               f" | grep '07-20T' | grep 'myid={i}' | wc -l")
        n = int(subprocess.run(["sh", "-c", cmd], capture_output=True, text=True).stdout)
        check(n == exc.get(f"zk:{i}", 0), f"myid={i}: grep counts {n} = "
              f"{exc.get(f'zk:{i}', 0)} zk.follower.exception records")
    check(res["metrics"]["zk"]["follower_exceptions"] == sum(exc.values()),
          "--json zk.follower_exceptions matches the trace")
    # 00:02:0x: every follower of myid 5 times out within a second.
    first = [r["t"] for r in recs if r["type"] == "zk.follower.exception" and r["t"] < 130e9]
    check(len(first) == 4 and max(first) - min(first) < 1e9 and 123e9 < min(first) < 126e9,
          "the four followers' read timeouts come together at ~00:02:04")
    # The meta on .152 times out, starts its 200 ms timer and stops on it.
    m = [r for r in recs if r["node"] == "meta:n152" and 120e9 < r["t"] < 130e9]
    start = next((r for r in m if r["type"] == "meta.timer" and r["action"] == "start"), None)
    stop = next((r for r in m if r["type"] == "meta.stop"), None)
    check(start is not None and stop is not None and stop["cause"] == "local_timer"
          and abs(stop["t"] - start["t"] - 200e6) < 1e3,
          "meta on .152: client timeout -> 200 ms timer -> stop")
    metad = open(os.path.join(logs, "n152", "zbs-metad.log")).read()
    check("Start the session timeout timer: 200" in metad, "zbs-metad.log on .152 shows the 200 ms timer")
    down = sum(open(f).read().count("errno=112(Host is down)")
               for f in glob.glob(os.path.join(logs, "*", "zbs-metad.log")))
    check(down >= 1, f"a meta's client sees 'Host is down' (EOF) from a LOOKING server ({down})")
    check(res["metrics"]["meta"]["stops"] >= 2, "meta failovers happen")
    # A peer cycles looking -> following -> following - discovery -> looking (myid 4 in the seed,
    # 00:02:06 -> 00:23:05). In the model these cycles need .153's lossy links to miss
    # T*initLimit in discovery, which happens in a minority of seeds: count them over seeds 1..16.
    per_seed = []
    for seed in range(1, 17):
        t = os.path.join(tmp, f"cycles-{seed}.jsonl")
        q = subprocess.run([zksim, "run", scenario, "--seed", str(seed), "--trace", t],
                           capture_output=True, text=True)
        check(q.returncode in (0, 1), f"seed {seed}: zksim run exits 0/1 ({q.returncode})")
        per_seed.append(looking_cycles([json.loads(l) for l in open(t)]))
    print(f"looking-following-discovery-looking cycles per seed 1..16: {per_seed}")
    check(sum(1 for c in per_seed if c > 0) >= 2,
          f"the cycles occur in at least 2 of 16 seeds ({per_seed})")
    check(looking_cycles(recs) == per_seed[doc_seed(scenario) - 1],
          "the scenario's own run agrees with its --seed rerun")
    check(res["metrics"]["gc"]["pauses"] > 200, f"GC pauses are simulated ({res['metrics']['gc']['pauses']})")
    # The seed's GC pipeline on the simulated zookeeper_gc.log files (JDK 8 layout), rg -> grep:
    # rg 'GC pause' | awk '{print $(NF-1)}' | sort -n | python -c '...sum/avg/min/max/count'
    # It sees every pause that ended (one still running when the run stops is not logged yet).
    gcs = sorted(glob.glob(os.path.join(logs, "*", "zookeeper_gc.log")))
    check(len(gcs) == 5, f"one zookeeper_gc.log per ZooKeeper host ({len(gcs)})")
    out = subprocess.run(["sh", "-c", "grep -h 'GC pause' " + " ".join(gcs) +
                          " | awk '{print $(NF-1)}' | sort -n"],
                         capture_output=True, text=True).stdout.split()
    secs = [float(x) for x in out]
    pauses, resumes = {}, {}
    for r in recs:
        if r["type"] == "gc.pause":
            pauses.setdefault(r["node"], []).append(r["ms"])
        elif r["type"] == "gc.resume":
            resumes[r["node"]] = resumes.get(r["node"], 0) + 1
    done = [ms for n, ms_list in pauses.items() for ms in ms_list[:resumes.get(n, 0)]]
    check(len(secs) == len(done), f"'GC pause' lines {len(secs)} = finished gc.pause records {len(done)}")
    check(abs(sum(secs) - sum(done) / 1e3) < 1e-6 * max(1, len(secs)),
          f"sum of logged pause lengths {sum(secs):.4f} s = the trace's {sum(done) / 1e3:.4f} s")
    check(0.1 < sum(secs) / len(secs) < 0.4, f"mean pause {sum(secs) / len(secs):.3f} s, the seed's range")


def incident_port(zksim, scenario, tmp):
    """scenarios/incident-2025-07-20-port2888.json: what the port-selective fault gives (seeds
    1..16), including what it does not reproduce, so a model change that alters either shows."""
    rows = []
    for seed in range(1, 17):
        res, recs = incident_2025_port_study.run_one(zksim, scenario, seed, tmp)
        if seed == 1:
            what = next(r["what"] for r in recs if r["type"] == "fault.start")
            check(what == "partition n153 | n146,n147,n148,n152 port 2888",
                  f"the fault is .153's port 2888 only ({what})")
            first = [r["t"] for r in recs
                     if r["type"] == "zk.follower.exception" and r["t"] < 124.5e9]
            check(len(first) == 4 and max(first) - min(first) < 1e6 and 123e9 < min(first) < 124.5e9,
                  "the four followers' read timeouts come together at ~00:02:04, as in the seed")
        rows.append(incident_2025_port_study.analyse(res, recs, 120.5, 1800.0))
    for r in rows:
        print(json.dumps(r))
    to5 = sum(1 for r in rows if r["to5"] > 0)
    check(to5 >= 14, f"FLE over the working election port still ends on myid 5 in >= 14 of 16 "
          f"seeds ({to5})")
    c4 = sum(1 for r in rows if r["cycles4"] > 0)
    check(c4 >= 12, f"myid 4 shows the seed's looking -> following -> discovery -> looking cycle in "
          f">= 12 of 16 seeds ({c4})")
    periods = [r["cycle4_median_s"] for r in rows if r["cycle4_median_s"]]
    check(all(3.9 < p < 4.6 for p in periods), f"its period is ~T*initLimit = 4 s ({periods})")
    # Not reproduced: the storm ends within seconds, the four elect one of themselves and myid 5
    # is the one that cycles for 21 minutes (the reverse of the seed).
    check(all(r["stable_leader"] in ("zk:3", "zk:4") and r["stable_at_s"] < 160 for r in rows),
          "every seed has a stable leader other than myid 5 by 00:02:40: "
          f"{[(r['stable_leader'], r['stable_at_s']) for r in rows]}")
    check(all(r["zk_unavail"]["max_s"] < 36 for r in rows),
          f"longest window with no serving leader < 36 s, not 21 min "
          f"({[r['zk_unavail']['max_s'] for r in rows]})")
    ex5 = [r["exceptions"]["zk:5"] for r in rows]
    ex14 = [max(r["exceptions"][f"zk:{i}"] for i in range(1, 5)) for r in rows]
    check(all(300 <= n <= 315 for n in ex5), f"myid 5 logs 300-315 follower exceptions ({ex5})")
    check(all(n <= 10 for n in ex14), f"myids 1-4 log at most 10 each ({ex14})")


def incident_pair(zksim, scenario, tmp):
    """scenarios/incident-2025-07-20-pair2888.json (hypothesis 3): a 3.3 s stall of the leader plus
    port 2888 cut between .152 and .153 only (seeds 1..16). What it reproduces of the seed and
    what it does not, so a model change that alters either shows."""
    rows = []
    for seed in range(1, 17):
        res, recs = incident_2025_port_study.run_one(zksim, scenario, seed, tmp)
        rows.append(incident_2025_port_study.analyse(res, recs, 120.5, 1800.0))
    for r in rows:
        print(json.dumps(r))
    # The seed's picture: myid 5 re-elected, myid 4 cycling every ~4 s for 21 minutes while
    # myid 5 leads the other three, then myid 4 (or 3) leading from 00:23:03.
    seedlike = [r for r in rows if r["cycles4"] > 300 and r["served_s"].get("zk:5", 0) > 1200]
    check(len(seedlike) >= 8, f"myid 4 cycles > 300 times while myid 5 leads >= 1200 s in >= 8 of 16 "
          f"seeds ({len(seedlike)})")
    check(all(4.0 < r["cycle4_median_s"] < 4.1 for r in seedlike),
          f"the cycle lasts T*initLimit = 4.0 s ({[r['cycle4_median_s'] for r in seedlike]})")
    check(all(r["served_s"].get("zk:4", 0) + r["served_s"].get("zk:3", 0) > 410 for r in seedlike),
          "then myid 4 or 3 serves from 00:23:03-04 to the end (the seed: myid 4 leading - discovery "
          f"at 03.327): {[r['served_s'] for r in seedlike]}")
    check(all(1383 < r["stable_at_s"] < 1384 for r in seedlike if r["stable_leader"] != "zk:5"),
          "its first 60 s in broadcast starts at 00:23:03-04: "
          f"{[(r['stable_leader'], r['stable_at_s']) for r in seedlike]}")
    # Not reproduced: the count of exceptions. Each failed cycle logs `Exception when following
    # the leader`: ~313 for myid 4 in 21 minutes, against 168 in the seed's whole day.
    ex4 = [r["exceptions"]["zk:4"] for r in seedlike]
    check(all(300 <= n <= 320 for n in ex4), f"myid 4 logs 300-320 follower exceptions ({ex4})")
    # And the ensemble keeps a serving leader (myid 5 with myids 1-3) through the 21 minutes.
    check(all(r["zk_unavail"]["max_s"] < 5 for r in rows),
          f"longest window with no serving leader < 5 s ({[r['zk_unavail']['max_s'] for r in rows]})")
    # In the other seeds the four elect one of themselves at 00:02:04 and myid 5 cycles instead.
    other = [r for r in rows if r not in seedlike]
    check(all(r["stable_at_s"] < 125 for r in other),
          f"the other seeds settle at 00:02:04 ({[(r['stable_leader'], r['stable_at_s']) for r in other]})")


def main():
    cmd = sys.argv[1]
    if cmd == "seed1":
        seed1(sys.argv[2], sys.argv[3])
    elif cmd == "study":
        study(sys.argv[2])
    elif cmd == "timer200":
        timer200(sys.argv[2], "--all" in sys.argv)
    elif cmd == "incident":
        incident(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "incident-port":
        incident_port(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "incident-pair":
        incident_pair(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit(f"unknown check {cmd}")
    if failed:
        print(f"{len(failed)} assertion(s) failed")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
