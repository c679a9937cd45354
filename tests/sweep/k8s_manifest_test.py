#!/usr/bin/python3
"""Runs examples/k8s/sweep-job.yaml the way Kubernetes would, without a cluster.

There is no cluster in CI, so this executes what an Indexed Job does with the manifest: one process
per completion index, each with the container's exact command and env plus JOB_COMPLETION_INDEX,
the image paths mapped to the checkout (/opt/zksim -> source dir, `zksim` -> the built binary,
/results -> a temporary directory). It asserts the manifest is a consistent Indexed Job
(completions == ZKSIM_SHARD_COUNT, restartPolicy Never, the volume mounted where the outputs go),
merges the shards with `zksim merge` and compares the result byte for byte with one process running
the whole grid. `--runs 2` is appended to keep the test short (the grid is the spec's, unchanged).

usage: k8s_manifest_test.py ZKSIM SOURCE_DIR
"""
import os
import subprocess
import sys
import tempfile

import yaml

failed = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failed.append(what)


def main():
    zksim, src = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    with open(os.path.join(src, "examples", "k8s", "sweep-job.yaml")) as f:
        job = yaml.safe_load(f)
    spec = job["spec"]
    check(job["kind"] == "Job" and job["apiVersion"] == "batch/v1", "a batch/v1 Job")
    check(spec.get("completionMode") == "Indexed", "completionMode: Indexed")
    pod = spec["template"]["spec"]
    check(pod.get("restartPolicy") == "Never", "restartPolicy: Never (retries are per index)")
    (c,) = pod["containers"]
    env = {e["name"]: e["value"] for e in c.get("env", [])}
    n = int(spec["completions"])
    check(env.get("ZKSIM_SHARD_COUNT") == str(n),
          f"ZKSIM_SHARD_COUNT ({env.get('ZKSIM_SHARD_COUNT')}) == completions ({n})")
    mounts = {m["mountPath"] for m in c.get("volumeMounts", [])}
    outs = [c["command"][i + 1] for i, a in enumerate(c["command"]) if a == "--out"]
    check(outs and all(any(o.startswith(m + "/") for m in mounts) for o in outs),
          f"every --out ({outs}) is on a mounted volume ({sorted(mounts)})")
    check(all("{shard}" in o for o in outs), "every output name carries {shard}")
    check(c["command"][0] == "zksim" and c["command"][1] == "sweep", "the container runs zksim sweep")

    with tempfile.TemporaryDirectory() as tmp:
        def mapped(args):
            out = []
            for a in args:
                a = a.replace("/opt/zksim", src).replace("/results", tmp)
                out.append(zksim if a == "zksim" else a)
            return out + ["--runs", "2"]

        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("SLURM_", "JOB_COMPLETION_INDEX", "ZKSIM_SHARD"))}
        for i in range(n):
            e = dict(base, **env, JOB_COMPLETION_INDEX=str(i))
            p = subprocess.run(mapped(c["command"]), env=e, capture_output=True, text=True)
            check(p.returncode == 0, f"index {i}: exit {p.returncode} {p.stderr.strip()[-300:]}")
        shards = [os.path.join(tmp, f"shard-{i}.csv") for i in range(n)]
        check(all(os.path.exists(s) for s in shards), f"{n} shard CSVs written")
        merged = subprocess.run([zksim, "merge"] + shards, capture_output=True, text=True)
        check(merged.returncode == 0, f"zksim merge exit {merged.returncode} {merged.stderr.strip()}")

        one = os.path.join(tmp, "one")
        os.mkdir(one)
        cmd = [a for a in mapped(c["command"])]
        cmd = [a.replace(tmp, one) for a in cmd]
        p = subprocess.run(cmd, env=base, capture_output=True, text=True)
        check(p.returncode == 0, f"single machine: exit {p.returncode} {p.stderr.strip()[-300:]}")
        with open(os.path.join(one, "shard-0.csv")) as f:
            single = f.read()
        rows = single.count("\n") - 1
        check(rows == 200, f"the single run has the spec's 20x10 points ({rows})")
        check(merged.stdout == single, "merged shards == single machine, byte for byte")

    if failed:
        print(f"{len(failed)} check(s) failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
