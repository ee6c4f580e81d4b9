#!/usr/bin/env bash
# Build what users install and try it as they would (`make test-wheel`):
#  1. the sdist and the wheel, with `python -m build`, checked by `twine check`;
#  2. the wheel holds the package data (the MESA meta-sampler, py.typed) and
#     no tests or benchmarks;
#  3. a clean virtual environment outside the source tree gets the pinned CPU
#     torch and the wheel (its dependencies resolved by pip, as a user's are);
#  4. .ci/wheel_smoke.py runs there, from a directory outside the tree.
# $PYTHON must have `build` and `twine` (the tests extra); default .venv's.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/skart-wheel.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
case "$WORK/" in "$ROOT"/*) echo "temp dir inside the tree: $WORK" >&2; exit 1 ;; esac
start=$SECONDS

echo "== build sdist and wheel into $WORK/dist"
"$PYTHON" -m build --sdist --wheel --outdir "$WORK/dist" "$ROOT" >"$WORK/build.log" 2>&1 \
    || { cat "$WORK/build.log"; exit 1; }
"$PYTHON" -m twine check --strict "$WORK"/dist/*

echo "== contents of the wheel and the sdist"
"$PYTHON" - "$WORK/dist" <<'EOF'
import re, sys, tarfile, zipfile
from pathlib import Path

dist = Path(sys.argv[1])
wheel, = dist.glob("skart-*.whl")
names = zipfile.ZipFile(wheel).namelist()
problems = []
for pattern in (r"skart/ensemble/_data/[^/]+\.npz", r"skart/py\.typed"):
    if not any(re.fullmatch(pattern, n) for n in names):
        problems.append(f"the wheel lacks {pattern}")
stray = [n for n in names if n.split("/")[0] in ("tests", "benchmarks", "examples", "docs")]
if stray:
    problems.append(f"the wheel holds {stray[:5]}")
sdist, = dist.glob("skart-*.tar.gz")
members = tarfile.open(sdist).getnames()
for pattern in (r"skart-[^/]+/skart/ensemble/_data/[^/]+\.npz", r"skart-[^/]+/LICENSE"):
    if not any(re.fullmatch(pattern, m) for m in members):
        problems.append(f"the sdist lacks {pattern}")
if problems:
    sys.exit("\n".join(problems))
print(f"{wheel.name}: {len(names)} files, package data present, no tests or benchmarks")
print(f"{sdist.name}: {len(members)} members")
EOF

echo "== clean environment outside the tree"
# The interpreter the venv is made from: a base Python, not the tree's venv.
BASE="$("$PYTHON" -c 'import sys; print(sys._base_executable)')"
"$BASE" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
PIP=("$VPY" -m pip install -q --disable-pip-version-check)
# torch first, pinned: an unpinned one would be a CUDA build. The wheel's
# dependencies come from PyPI at constraints.txt's versions, so that a new
# release elsewhere cannot turn this check red overnight (make test-min-deps
# covers the other end of the declared ranges).
"${PIP[@]}" -c "$ROOT/constraints.txt" torch==2.13.0
"${PIP[@]}" -c "$ROOT/constraints.txt" "$WORK"/dist/skart-*.whl
"$VPY" -m pip check

echo "== smoke test from $WORK/run"
mkdir "$WORK/run"
cp "$ROOT/.ci/wheel_smoke.py" "$WORK/run/"
(cd "$WORK/run" && env -u PYTHONPATH OMP_NUM_THREADS=1 SKART_SOURCE="$ROOT" \
    "$VPY" -I wheel_smoke.py)
echo "== wheel smoke test done in $((SECONDS - start)) s"
