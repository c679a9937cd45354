#!/usr/bin/python3
"""Executes notebooks/gc-fit.ipynb headless (jupyter nbconvert --execute) on a model and a pauses
CSV freshly produced by the CLI from a real log; fails when any cell errors.

usage: run_notebook.py ZKSIM_GCFIT_BINARY SHARED_DIR SOURCE_DIR
"""
import os
import subprocess
import sys
import tempfile


def main():
    cli, shared, source = sys.argv[1:4]
    log = os.path.join(shared, "data", "gc-logs", "gctoolkit-testdata", "gcspike.log")
    if not os.path.exists(log):
        print(f"{log}: shared data absent")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "gc-model.json")
        pauses = os.path.join(tmp, "pauses.csv")
        subprocess.run([cli, "gcfit", log, "--out", model, "--pauses-csv", pauses], check=True,
                       stdout=subprocess.DEVNULL)
        env = dict(os.environ, GCFIT_MODEL=model, GCFIT_PAUSES_CSV=pauses, GCFIT_KIND="young",
                   MPLBACKEND="Agg")
        out = os.path.join(tmp, "executed.ipynb")
        r = subprocess.run(["/usr/bin/jupyter", "nbconvert", "--to", "notebook", "--execute",
                            os.path.join(source, "notebooks", "gc-fit.ipynb"), "--output", out],
                           env=env, cwd=source)
        if r.returncode != 0:
            return 1
        import json
        with open(out) as f:
            nb = json.load(f)
        images = sum(1 for c in nb["cells"] for o in c.get("outputs", [])
                     if "image/png" in o.get("data", {}))
        print(f"notebook executed: {images} figures")
        return 0 if images >= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
