"""The paper-reproduction harness (benchmarks/paper): MSMOTE, runner, statistics."""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ lives beside the package, not in it
    sys.path.insert(0, str(ROOT))

from benchmarks.paper import run, stats  # noqa: E402
from benchmarks.paper.msmote import BORDER, MSMOTE, NOISE, SAFE  # noqa: E402


def _on_some_segment(x, points, tol=1e-6):
    """Whether x = a + t (b - a) with t in [0, 1] for two rows a != b of points."""
    for i, a in enumerate(points):
        for b in points[i + 1 :]:
            d = b - a
            t = np.dot(x - a, d) / np.dot(d, d)
            if -tol <= t <= 1 + tol and np.linalg.norm(a + t * d - x) < tol:
                return True
    return False


class TestMSMOTE:
    def test_counts_binary_and_multiclass(self):
        rng = np.random.RandomState(0)
        X = rng.randn(130, 3)
        y = np.r_[np.zeros(100), np.ones(20), np.full(10, 2)].astype(int)
        X_res, y_res = MSMOTE(random_state=0).fit_resample(X, y)
        assert np.bincount(y_res).tolist() == [100, 100, 100]
        np.testing.assert_array_equal(X_res[:130], X)  # originals kept first
        X_res, y_res = MSMOTE(sampling_strategy={1: 50}, random_state=0).fit_resample(
            X[:120], y[:120]
        )
        assert np.bincount(y_res).tolist() == [100, 50]

    def test_samples_on_segments_between_minority_points(self):
        rng = np.random.RandomState(1)
        X = np.r_[rng.randn(40, 2) + 3, rng.randn(8, 2)]
        y = np.r_[np.zeros(40), np.ones(8)].astype(int)
        X_res, _ = MSMOTE(k_neighbors=3, random_state=0).fit_resample(X, y)
        minority = X[y == 1]
        assert all(_on_some_segment(x, minority) for x in X_res[len(X) :])

    def test_noise_generates_nothing_border_uses_nearest(self):
        rng = np.random.RandomState(2)
        majority = rng.uniform(9, 11, size=(40, 2))
        cluster = rng.uniform(-1, 1, size=(10, 2))
        noise = np.array([[10.0, 10.0]])  # a minority point deep in the majority
        X = np.r_[majority, cluster, noise]
        y = np.r_[np.zeros(40), np.ones(11)].astype(int)
        sampler = MSMOTE(k_neighbors=3, random_state=0)
        X_res, _ = sampler.fit_resample(X, y)
        types = sampler.sample_types_[1]
        assert types[-1] == NOISE and np.all(types[:-1] == SAFE)
        # Nothing from the noise point or towards it: all within the cluster's box.
        assert np.abs(X_res[len(X) :]).max() <= 1.0

        # Two minority pairs on the majority's edge: all border, so each new
        # point lies between a minority point and its nearest minority neighbour.
        pairs = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 0.0], [5.1, 0.0]])
        maj = np.array([[0.0, 0.2], [0.1, 0.2], [5.0, 0.2], [5.1, 0.2], [2.5, 3.0]] * 3)
        maj = maj + rng.uniform(0, 0.01, size=maj.shape)
        X = np.r_[maj, pairs]
        y = np.r_[np.zeros(len(maj)), np.ones(4)].astype(int)
        sampler = MSMOTE(k_neighbors=3, random_state=0)
        X_res, _ = sampler.fit_resample(X, y)
        assert np.all(sampler.sample_types_[1] == BORDER)
        new = X_res[len(X) :]
        near_first = (new[:, 0] <= 0.1 + 1e-9) & (new[:, 0] >= 0)
        near_second = (new[:, 0] >= 5.0) & (new[:, 0] <= 5.1 + 1e-9)
        assert np.all(near_first | near_second) and np.allclose(new[:, 1], 0)

    def test_all_noise_class_warns_and_keeps_originals(self):
        X = np.r_[np.zeros((10, 1)), [[0.01], [0.02]]]
        X[:10] += np.linspace(-0.5, 0.5, 10)[:, None]
        y = np.r_[np.zeros(10), np.ones(2)].astype(int)
        X[10:] = [[-0.05], [0.05]]  # each surrounded by majority points
        with pytest.warns(UserWarning, match="cannot over-sample"):
            X_res, y_res = MSMOTE(k_neighbors=1, random_state=0).fit_resample(X, y)
        assert len(X_res) == len(X)


class TestStats:
    @pytest.fixture
    def df(self):
        art = [0.80, 0.75, 0.90, 0.70, 0.85]
        base = [0.78, 0.76, 0.84, 0.66, 0.80]
        smote = [0.81, 0.70, 0.91, 0.60, 0.86]
        rows = [
            {
                "dataset": "A",
                "method": m,
                "seed": s,
                "macro_f1": v,
                "accuracy": v,
                "macro_precision": v,
                "macro_recall": v,
            }
            for m, vals in (("ART", art), ("Baseline", base), ("SMOTE", smote))
            for s, v in enumerate(vals)
        ]
        rows += [{**r, "dataset": "B", "macro_f1": 1 - r["macro_f1"]} for r in rows]
        return pd.DataFrame(rows), art, base

    def test_paired_tests_match_scipy(self, df):
        df, art, base = df
        t = stats.paired_tests(df).set_index(["dataset", "method"])
        row = t.loc[("A", "Baseline")]
        assert row.t_p == pytest.approx(sps.ttest_rel(art, base).pvalue)
        assert row.wilcoxon_p == pytest.approx(sps.wilcoxon(art, base).pvalue)
        assert row.delta == pytest.approx(np.mean(np.subtract(art, base)))
        assert row.n_pairs == 5

    def test_ranks_and_summary(self, df):
        df, art, _ = df
        per, avg = stats.average_ranks(df)
        # Means on A: ART 0.80, Baseline 0.768, SMOTE 0.776; B is reversed.
        assert per["A"].to_dict() == {"ART": 1.0, "Baseline": 3.0, "SMOTE": 2.0}
        assert avg.to_dict() == {"ART": 2.0, "Baseline": 2.0, "SMOTE": 2.0}
        s = stats.summarize(df).set_index(["dataset", "method"])
        assert s.loc[("A", "ART"), "macro_f1_std"] == pytest.approx(np.std(art, ddof=1))

    def test_identical_methods_give_p_one(self, df):
        df, _, _ = df
        twin = df[df.method == "ART"].assign(method="Twin")
        t = stats.paired_tests(pd.concat([df, twin])).set_index(["dataset", "method"])
        assert t.loc[("A", "Twin"), "t_p"] == 1.0 == t.loc[("A", "Twin"), "wilcoxon_p"]


def test_runner_writes_results_and_resumes(tmp_path, shared_data, monkeypatch):
    argv = [
        "--seeds",
        "1",
        "--datasets",
        "Pima",
        "--methods",
        "Baseline,ART,MSMOTE,Baseline+threshold",
        "--max-epochs",
        "2",
        "--out",
        str(tmp_path),
        "--data-home",
        str(shared_data),
        "--no-progress",
    ]
    run.main(argv)
    raw = pd.read_csv(tmp_path / "raw_default_e2.csv")
    assert sorted(raw.method) == ["ART", "Baseline", "Baseline+threshold", "MSMOTE"]
    assert raw[["macro_f1", "accuracy"]].apply(lambda c: c.between(0, 1)).all().all()
    for name in ("summary", "tests", "ranks"):
        assert (tmp_path / f"{name}_default_e2.csv").is_file()
    assert (tmp_path / "heatmap_default_e2.png").stat().st_size > 0

    calls = []
    real = run.evaluate
    monkeypatch.setattr(
        run, "evaluate", lambda *a, **k: calls.append(a[:3]) or real(*a, **k)
    )
    run.main(argv)  # everything done: nothing is refit
    assert calls == []
    raw[raw.method != "ART"].to_csv(tmp_path / "raw_default_e2.csv", index=False)
    run.main(argv)  # the missing row only
    assert calls == [("Pima", "ART", 1834)]
    assert len(pd.read_csv(tmp_path / "raw_default_e2.csv")) == 4


def test_runner_on_a_local_dask_cluster_gives_the_local_rows(tmp_path, shared_data):
    pytest.importorskip("distributed")
    argv = [
        "--seeds",
        "1",
        "--datasets",
        "Pima",
        "--methods",
        "Baseline,ART",
        "--max-epochs",
        "2",
        "--data-home",
        str(shared_data),
        "--no-progress",
    ]
    run.main([*argv, "--out", str(tmp_path / "local")])
    run.main([*argv, "--out", str(tmp_path / "dask"), "--dask", "--n-jobs", "2"])
    rows = [
        pd.read_csv(tmp_path / where / "raw_default_e2.csv").sort_values("method")
        for where in ("local", "dask")
    ]
    for column in ("method", "seed", "macro_f1", "accuracy"):
        assert rows[0][column].tolist() == rows[1][column].tolist()


def test_runner_says_when_the_scheduler_cannot_be_reached():
    pytest.importorskip("distributed")
    with pytest.raises(ConnectionError, match="Could not reach a Dask scheduler at"):
        with run.parallel_backend("tcp://127.0.0.1:9", 1, timeout=2):
            pass


def _many_sets(n_sets=8, seeds=3):
    # "Good" beats "Ref" by 0.05 on every set; "Bad" is 0.10 below it.
    rng = np.random.default_rng(0)
    rows = []
    for d in range(n_sets):
        base = rng.uniform(0.5, 0.8)
        for s in range(seeds):
            for m, shift in (("Ref", 0.0), ("Good", 0.05), ("Bad", -0.10)):
                rows.append(
                    {
                        "dataset": f"d{d}",
                        "method": m,
                        "seed": s,
                        "macro_f1": base + shift + 0.001 * s,
                    }
                )
    return pd.DataFrame(rows)


def test_across_datasets_counts_wins_and_tests_the_set_means():
    df = _many_sets()
    acr = stats.across_datasets(df, "Ref").set_index("method")
    assert acr.loc["Good", "delta"] == pytest.approx(0.05)
    assert (acr.loc["Good", "wins"], acr.loc["Good", "losses"]) == (8, 0)
    assert (acr.loc["Bad", "wins"], acr.loc["Bad", "losses"]) == (0, 8)
    means = df.groupby(["dataset", "method"]).macro_f1.mean().unstack()
    want = sps.wilcoxon(means["Good"] - means["Ref"]).pvalue
    assert acr.loc["Good", "wilcoxon_p"] == pytest.approx(want) and want < 0.01
    assert acr.loc["Ref", "ties"] == 8 and np.isnan(acr.loc["Ref", "wilcoxon_p"])


def test_critical_difference_matches_demsar(tmp_path):
    df = _many_sets()
    ranks, cd, friedman_p = stats.critical_difference(df, tmp_path / "cd.png")
    assert ranks.to_dict() == {"Good": 1.0, "Ref": 2.0, "Bad": 3.0}
    # Demšar (2006), Table 5: q_0.05 = 2.343 for k = 3 classifiers.
    assert cd == pytest.approx(2.343 * np.sqrt(3 * 4 / (6 * 8)), abs=1e-3)
    assert friedman_p < 0.01 and (tmp_path / "cd.png").stat().st_size > 0


def test_side_by_side_puts_the_papers_row_next_to_ours():
    from benchmarks.paper.compare import paper_table, side_by_side

    df = pd.DataFrame(
        [
            {"dataset": "Pima", "method": m, "seed": s, "macro_f1": v + 0.01 * s}
            for m, v in (("ART", 0.75), ("Baseline", 0.73))
            for s in range(3)
        ]
    )
    text = side_by_side(df)
    paper = paper_table().set_index(["dataset", "method"])
    art = paper.loc[("Pima", "ART"), "macro_f1_mean"]
    assert f"| ART | 76.0 ± 1.0 | {100 * art:.1f} |" in text
    assert "| Baseline | 74.0 ± 1.0 | 73.7 |" in text
    assert "0.0003" in text  # Appendix A's Wilcoxon p of ART vs Baseline on Pima
