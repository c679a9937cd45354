#!/usr/bin/python3
"""Checks zksim gcfit's own MLE fits against scipy on two real GC logs, and that the bundled
scenario model is what the CLI produces today.

usage: scipy_agreement.py ZKSIM_GCFIT_BINARY SHARED_DIR SOURCE_DIR

For the young pauses of gctoolkit-testdata/minimal.log (unified G1, 3432 pauses) and
gctoolkit-testdata/gcspike.log (JDK 8 G1, 265 pauses), durations and gaps: the parameters of every
family (scipy `fit(x, floc=0)`), the KS statistic (scipy.stats.kstest against the fitted cdf), the
log-likelihood and the AIC choice must agree to 3 significant digits (relative difference
<= 5e-4); the empirical table must equal numpy.quantile (type 7). Exit 77 (ctest skip) when the
shared data is absent.
"""
import csv
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from scipy import optimize, stats

REL = 5e-4  # three significant digits
failures = []


def close(name, ours, ref, rel=REL):
    ok = abs(ours - ref) <= rel * abs(ref)
    print(f"  {'ok ' if ok else 'BAD'} {name:44s} zksim={ours:<24.12g} scipy={ref:<24.12g}")
    if not ok:
        failures.append(name)


def tight_fmin(func, x0, args=(), disp=0):
    return optimize.fmin(func, x0, args=args, xtol=1e-12, ftol=1e-14, maxiter=20000,
                         maxfun=40000, disp=0)


def scipy_fits(x):
    """(family -> (params dict, frozen dist)) with location fixed at 0, like zksim."""
    s, _, scale = stats.lognorm.fit(x, floc=0)
    a, _, gscale = stats.gamma.fit(x, floc=0)
    c, _, wscale = stats.weibull_min.fit(x, floc=0, optimizer=tight_fmin)
    _, escale = stats.expon.fit(x, floc=0)
    return {
        "lognormal": ({"mu": np.log(scale), "sigma": s}, stats.lognorm(s, scale=scale)),
        "gamma": ({"shape": a, "scale": gscale}, stats.gamma(a, scale=gscale)),
        "weibull": ({"shape": c, "scale": wscale}, stats.weibull_min(c, scale=wscale)),
        "exponential": ({"mean": escale}, stats.expon(scale=escale)),
    }


def check_series(label, values, series):
    x = np.sort(np.array(values, dtype=float))
    pos = x[x > 0]
    print(f"{label}: n={len(x)} (positive {len(pos)})")
    if series["n"] != len(pos):
        failures.append(f"{label} n {series['n']} != {len(pos)}")
    ref = scipy_fits(pos)
    aics = {}
    for cand in series["candidates"]:
        fam = cand["family"]
        params, dist = ref[fam]
        for k, v in params.items():
            close(f"{label} {fam} {k}", cand["params"][k], v)
        ks = stats.kstest(pos, dist.cdf).statistic
        close(f"{label} {fam} KS", cand["ks"], ks)
        ll = float(np.sum(dist.logpdf(pos)))
        close(f"{label} {fam} loglik", cand["loglik"], ll)
        aics[fam] = 2 * len(params) - 2 * ll
    best = min(aics, key=aics.get)
    print(f"  chosen: zksim={series['family']} scipy-AIC={best}")
    if best != series["family"]:
        failures.append(f"{label} chosen family {series['family']} != {best}")
    table = series["empirical"]["quantiles"]
    want = np.quantile(x, [p for p, _ in table])
    if not np.allclose([v for _, v in table], want, rtol=1e-12, atol=0):
        failures.append(f"{label} empirical table differs from numpy.quantile")


def main():
    cli, shared, source = sys.argv[1:4]
    logs = os.path.join(shared, "data", "gc-logs")
    if not os.path.isdir(logs):
        print(f"{logs}: shared data absent")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        for rel in ["gctoolkit-testdata/minimal.log", "gctoolkit-testdata/gcspike.log"]:
            path = os.path.join(logs, rel)
            pcsv = os.path.join(tmp, "pauses.csv")
            out = subprocess.run([cli, "gcfit", path, "--kind", "young", "--json", "--pauses-csv", pcsv],
                                 check=True, capture_output=True, text=True).stdout
            model = json.loads(out)["model"]["kinds"]["young"]
            with open(pcsv, newline="") as f:
                rows = [r for r in csv.DictReader(f) if r["kind"] == "young"]
            durations = [float(r["seconds"]) for r in rows]
            ups = sorted(int(r["uptime_ns"]) for r in rows)
            gaps = [(b - a) / 1e9 for a, b in zip(ups, ups[1:])]
            check_series(f"{rel} young durations", durations, model["durations"])
            check_series(f"{rel} young gaps", gaps, model["gaps"])

        # The bundled model must be what the CLI produces now (same relative path, from the root).
        bundled_path = os.path.join(source, "scenarios", "gc-models", "jdk8-g1-gcspike.json")
        with open(bundled_path) as f:
            bundled = json.load(f)
        args = bundled["command"].split()[2:]
        args = args[: args.index("--out")] if "--out" in args else args
        fresh_path = os.path.join(tmp, "fresh.json")
        # The command uses paths relative to the repository root (../shared/...); run it from a
        # directory whose ../shared is the shared directory, whatever the checkout layout.
        os.makedirs(os.path.join(tmp, "root", "repo"))
        os.symlink(os.path.abspath(shared), os.path.join(tmp, "root", "shared"))
        subprocess.run([cli, "gcfit", *args, "--out", fresh_path], check=True,
                       cwd=os.path.join(tmp, "root", "repo"), capture_output=True)
        with open(fresh_path) as f:
            fresh = json.load(f)
        for doc in (bundled, fresh):
            doc.pop("command")
            doc.pop("comment")
        if fresh != bundled:
            failures.append(f"{bundled_path} is stale: regenerate it with its \"command\"")
        else:
            print(f"{bundled_path}: up to date")
    if failures:
        print("FAILURES:\n  " + "\n  ".join(failures))
        return 1
    print("all fits agree with scipy to 3 significant digits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
