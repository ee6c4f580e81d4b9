"""Reproduce Table 1 of the ART paper: every method x data set x seed, then stats.

Quick check (5 seeds, defaults, no tuning, the three tabular sets)::

    python -m benchmarks.paper.run --quick

The paper's protocol (20 seeds, Optuna TPE tuning, all five data sets)::

    python -m benchmarks.paper.run --seeds all --tune --datasets all --n-jobs 2
    python -m benchmarks.paper.run --quick --dask                       # a local Dask cluster
    python -m benchmarks.paper.run --quick --dask tcp://scheduler:8786  # a running one

Each finished (data set, method, seed) appends one row to
``<out>/raw_<tag>.csv``; rerunning the same command skips the rows already
there, so an interrupted run resumes. Tuned hyperparameters are cached in
``<out>/best_params_<tag>.json`` the same way. ``<tag>`` names the
configuration (``default`` or ``tuned<k>``, and the epoch cap), so runs of
different configurations never mix. At the end the summary (``summary_<tag>.csv``,
``tests_<tag>.csv``, ``ranks_<tag>.csv``, ``report_<tag>.md``) and the delta
heatmap (``heatmap_<tag>.png``) are written.
"""

import argparse
import contextlib
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed, parallel_config

from . import stats
from .methods import AUTHORS, METHODS, authors_package_available
from .protocol import (
    BINARY,
    DATASETS,
    IMBLEARN,
    KIND,
    PAPER,
    SEEDS,
    TABULAR,
    default_data_home,
    evaluate,
    imdb_cached,
    tune,
)

RESULTS = Path(__file__).resolve().parents[1] / "results" / "paper"
FIELDS = [
    "dataset",
    "method",
    "seed",
    "macro_f1",
    "accuracy",
    "macro_precision",
    "macro_recall",
    "val_macro_f1",
    "fit_seconds",
    "params",
]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--quick",
        action="store_true",
        help="5 seeds, no tuning, the tabular sets (default when nothing "
        "else is given)",
    )
    p.add_argument(
        "--seeds",
        default=None,
        help="'all' (the paper's 20), a count N (the first N) or a comma list of seeds",
    )
    p.add_argument(
        "--datasets",
        default=None,
        help="'all' (the paper's five), 'tabular' (default), 'imblearn' (the 22 "
        "binary imbalanced-learn sets) or a comma list of " + ", ".join(DATASETS),
    )
    p.add_argument("--methods", default=None, help="comma list (default: all)")
    p.add_argument("--tune", action="store_true", help="Optuna TPE tuning per method")
    p.add_argument(
        "--trials-per-param",
        type=int,
        default=None,
        help="trials per hyperparameter (default 25 tabular, 5 MNIST-LT/IMDb)",
    )
    p.add_argument("--max-epochs", type=int, default=100)
    p.add_argument("--n-jobs", type=int, default=1, help="worker processes (joblib)")
    p.add_argument(
        "--embed-imdb",
        action="store_true",
        help="encode IMDb reviews if their embeddings are not cached (~40 min)",
    )
    p.add_argument(
        "--dask",
        nargs="?",
        const="local",
        default=None,
        metavar="ADDRESS",
        help="run the fits on a Dask cluster through joblib: a scheduler address, or "
        "a local cluster of --n-jobs workers when none is given (the workers must "
        "see --data-home at the same path)",
    )
    p.add_argument("--data-home", default=str(default_data_home()))
    p.add_argument("--out", default=str(RESULTS))
    p.add_argument("--no-progress", action="store_true")
    return p.parse_args(argv)


def resolve(args):
    """Seeds, data sets, methods and the configuration tag from the arguments."""
    notes = []
    if args.quick and args.tune:
        args.tune = False
        notes.append("--quick runs without tuning: --tune ignored.")
    if args.seeds is None:
        seeds = SEEDS[:5] if (args.quick or not args.tune) else SEEDS
    elif args.seeds == "all":
        seeds = SEEDS
    elif "," in args.seeds:
        seeds = [int(s) for s in args.seeds.split(",")]
    else:
        seeds = SEEDS[: int(args.seeds)]
    if args.datasets in (None, "tabular"):
        datasets = list(TABULAR)
    elif args.datasets == "all":
        datasets = list(PAPER)
    elif args.datasets == "imblearn":
        datasets = list(IMBLEARN)
    else:
        datasets = args.datasets.split(",")
    unknown = set(datasets) - set(DATASETS)
    if unknown:
        raise SystemExit(
            f"Unknown data sets {sorted(unknown)}; choose from {DATASETS}."
        )
    if "IMDb" in datasets and not (args.embed_imdb or imdb_cached(args.data_home)):
        datasets.remove("IMDb")
        notes.append(
            "IMDb skipped: its embeddings are not cached (pass --embed-imdb "
            "to encode the reviews, ~40 min on 2 CPU cores)."
        )
    methods = list(METHODS) if args.methods is None else args.methods.split(",")
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise SystemExit(
            f"Unknown methods {sorted(unknown)}; choose from {list(METHODS)}."
        )
    if AUTHORS in methods and not authors_package_available():
        methods.remove(AUTHORS)
        notes.append(
            "The authors' package art_resampling is not installed: its row "
            "is skipped (pip install art-resampling; GPL-3.0)."
        )
    tag = (
        (f"tuned{args.trials_per_param}" if args.trials_per_param else "tuned")
        if args.tune
        else "default"
    )
    if args.max_epochs != 100:
        tag += f"_e{args.max_epochs}"
    return seeds, datasets, methods, tag, notes


def _read_done(path):
    if not path.is_file():
        return set()
    df = pd.read_csv(path)
    return set(zip(df["dataset"], df["method"], df["seed"].astype(int)))


def _progress(iterable, total, desc, disable):
    from tqdm import tqdm

    return tqdm(iterable, total=total, desc=desc, disable=disable, dynamic_ncols=True)


def run_tuning(args, datasets, methods, seeds, path):
    """Tune each (data set, method) once, on the first seed's split; cached in JSON."""
    best = json.loads(path.read_text()) if path.is_file() else {}
    todo = [
        (d, m)
        for d in datasets
        for m in methods
        if f"{d}|{m}" not in best and (d in BINARY or not METHODS[m].binary_only)
    ]

    def job(d, m):
        k = args.trials_per_param or (25 if KIND[d] == "tabular" else 5)
        params, value, n = tune(
            d,
            m,
            seeds[0],
            args.data_home,
            trials_per_param=k,
            max_epochs=args.max_epochs,
        )
        return d, m, {"params": params, "val_macro_f1": value, "n_trials": n}

    n_jobs = -1 if args.dask else args.n_jobs  # every worker of the cluster
    results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(job)(d, m) for d, m in todo
    )
    for d, m, res in _progress(results, len(todo), "tuning", args.no_progress):
        best[f"{d}|{m}"] = res
        path.write_text(json.dumps(best, indent=1, default=float))
    return best


@contextlib.contextmanager
def parallel_backend(address, n_workers, timeout=10):
    """joblib's backend for the run: the default one, or a Dask cluster's.

    ``address`` None keeps joblib's processes; ``"local"`` starts a
    ``LocalCluster`` of ``n_workers`` single-threaded workers; anything else is
    the address of a running scheduler.
    """
    if address is None:
        yield
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError(
            "--dask needs Dask's distributed scheduler: pip install 'skart[distributed]'"
        ) from exc
    with contextlib.ExitStack() as stack:
        if address == "local":
            cluster = stack.enter_context(
                LocalCluster(
                    n_workers=n_workers, threads_per_worker=1, dashboard_address=None
                )
            )
            client = stack.enter_context(Client(cluster))
        else:
            try:
                client = stack.enter_context(Client(address, timeout=timeout))
            except (OSError, TimeoutError) as exc:
                raise ConnectionError(
                    f"Could not reach a Dask scheduler at {address!r} within "
                    f"{timeout} s ({exc}). Start one (`dask scheduler`, then `dask "
                    "worker ADDRESS` on each machine), check the address and port, "
                    "or pass --dask without an address for a local cluster."
                ) from exc
        print(f"Dask: {client}", file=sys.stderr)
        stack.enter_context(parallel_config(backend="dask"))
        yield


def main(argv=None):
    args = parse_args(argv)
    with parallel_backend(args.dask, max(args.n_jobs, 1)):
        return _main(args, argv)


def _main(args, argv):
    seeds, datasets, methods, tag, notes = resolve(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for note in notes:
        print(note, file=sys.stderr)
    start, commit = time.perf_counter(), _git_head()  # the code the run starts on
    best = {}
    if args.tune:
        best = run_tuning(
            args, datasets, methods, seeds, out / f"best_params_{tag}.json"
        )
    raw = out / f"raw_{tag}.csv"
    done = _read_done(raw)
    todo = [
        (d, m, s)
        for d in datasets
        for m in methods
        for s in seeds
        if (d, m, s) not in done and (d in BINARY or not METHODS[m].binary_only)
    ]
    print(f"{len(done)} rows already in {raw}; {len(todo)} to run.", file=sys.stderr)

    def job(d, m, s):
        params = best[f"{d}|{m}"]["params"] if args.tune else None
        return evaluate(
            d, m, s, args.data_home, params=params, max_epochs=args.max_epochs
        )

    n_jobs = -1 if args.dask else args.n_jobs  # every worker of the cluster
    results = Parallel(n_jobs=n_jobs, return_as="generator_unordered")(
        delayed(job)(*t) for t in todo
    )
    new_file = not raw.is_file()
    with raw.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        if new_file:
            writer.writeheader()
        for row in _progress(results, len(todo), "fits", args.no_progress):
            writer.writerow(row)
            f.flush()  # one row per finished fit: an interruption loses nothing
    df = pd.read_csv(raw)
    df = df[df.dataset.isin(datasets) & df.method.isin(methods) & df.seed.isin(seeds)]
    write_summary(
        df,
        out,
        tag,
        {
            "command": " ".join(
                [sys.executable, "-m", "benchmarks.paper.run", *(argv or sys.argv[1:])]
            ),
            "git_commit_at_start": commit,
            "seeds": seeds,
            "datasets": datasets,
            "methods": methods,
            "tune": args.tune,
            "max_epochs": args.max_epochs,
            "n_jobs": args.n_jobs,
            "dask": args.dask,
            "wall_seconds_this_invocation": round(time.perf_counter() - start, 1),
            "notes": notes,
        },
    )
    print(f"Results in {out} (tag {tag}).", file=sys.stderr)
    return df


def _git_head():
    try:
        root = Path(__file__).resolve().parents[2]
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "benchmarks/paper"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return head + (" (+ uncommitted benchmarks/paper)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_summary(df, out, tag, meta, reference="ART"):
    """Summary CSVs, the markdown report and the heatmap from the raw rows.

    ``reference`` is the row the paired tests and the heatmap compare every
    other method with.
    """
    stats.summarize(df).to_csv(out / f"summary_{tag}.csv", index=False)
    stats.paired_tests(df, reference).to_csv(out / f"tests_{tag}.csv", index=False)
    ranks, avg = stats.average_ranks(df)
    ranks.assign(average=avg).sort_values("average").to_csv(out / f"ranks_{tag}.csv")
    stats.delta_heatmap(df, out / f"heatmap_{tag}.png", reference)
    (out / f"run_{tag}.json").write_text(json.dumps(meta, indent=1))
    report = stats.markdown_report(df, reference)
    # enough data sets and methods for tests across data sets
    if df["dataset"].nunique() >= 5 and df["method"].nunique() >= 3:
        reference = next(
            (m for m in ("Baseline+threshold", "Baseline") if m in set(df.method)),
            None,
        )
        if reference is not None:
            across = stats.across_datasets(df, reference)
            across.to_csv(out / f"across_{tag}.csv", index=False)
            report += (
                f"\n\nAcross data sets, against {reference} (mean over seeds, then "
                "over data sets):\n\n" + across.to_markdown(index=False, floatfmt=".4g")
            )
        ranks, cd, friedman_p = stats.critical_difference(df, out / f"cd_{tag}.png")
        report += (
            f"\n\nFriedman p = {friedman_p:.3g}; Nemenyi CD = {cd:.2f} "
            f"(see cd_{tag}.png)"
        )
    (out / f"report_{tag}.md").write_text(report + "\n")
    print(report)


if __name__ == "__main__":
    main()
