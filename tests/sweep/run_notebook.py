#!/usr/bin/python3
"""Executes notebooks/sweep.ipynb headless (jupyter nbconvert --execute) on a CSV freshly made by a
small `zksim sweep` over tickTime x session timeout x local timer; fails when a cell errors, when
fewer than three figures come out, or when the heatmap is not over tickTime x session timeout.

usage: run_notebook.py ZKSIM SOURCE_DIR [KEEP_DIR]   (KEEP_DIR: also save the figures as PNGs there)
"""
import base64
import json
import os
import subprocess
import sys
import tempfile


def main():
    zksim, source = (os.path.abspath(p) for p in sys.argv[1:3])
    keep = sys.argv[3] if len(sys.argv) > 3 else None
    if not os.path.exists("/usr/bin/jupyter"):
        print("skipped: /usr/bin/jupyter absent (apt-get install jupyter-nbconvert python3-ipykernel)")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        csv = os.path.join(tmp, "sweep.csv")
        subprocess.run([zksim, "sweep", os.path.join(source, "tests", "sweep", "data", "ifdown-small.json"),
                        "--grid", "zk.tickTime=1s,2s", "--grid", "meta.sessionTimeout=4s,6s,10s",
                        "--grid", "meta.localTimer=200ms:3600ms:850ms", "--runs", "3", "--seed", "2",
                        "-q", "-o", csv], check=True)
        env = dict(os.environ, SWEEP_CSV=csv, MPLBACKEND="Agg", PYDEVD_DISABLE_FILE_VALIDATION="1")
        out = os.path.join(tmp, "executed.ipynb")
        r = subprocess.run(["/usr/bin/jupyter", "nbconvert", "--to", "notebook", "--execute",
                            os.path.join(source, "notebooks", "sweep.ipynb"), "--output", out],
                           env=env, cwd=os.path.join(source, "notebooks"))
        if r.returncode != 0:
            return 1
        with open(out) as f:
            nb = json.load(f)
        images, text = [], ""
        for c in nb["cells"]:
            for o in c.get("outputs", []):
                if "image/png" in o.get("data", {}):
                    images.append(o["data"]["image/png"])
                text += "".join(o.get("text", ""))
        print(f"notebook executed: {len(images)} figures")
        print(text)
        if keep:
            os.makedirs(keep, exist_ok=True)
            for i, img in enumerate(images):
                with open(os.path.join(keep, f"fig{i}.png"), "wb") as f:
                    f.write(base64.b64decode(img))
        if "30 points x 3 runs" not in text:
            print("FAIL: the notebook did not read the test CSV")
            return 1
        if "heatmap: zk.tickTime x meta.sessionTimeout" not in text:
            print("FAIL: no tickTime x session timeout heatmap")
            return 1
        return 0 if len(images) >= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
