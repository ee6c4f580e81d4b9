"""Time and memory of AutoSMOTE's straight-through synthetic rows, on one thread.

``chosen_candidates`` (what a fit runs) against the contraction it replaced,
``einsum("nk,na,nkad->nd", k, a, candidates(...))`` over every candidate of
every (k, aggregation): forward and backward through Gumbel-softmax draws,
interleaved in rounds, at the seeds of a batch of 256 (210 x 32 features) and
of 4096 (3350 x 64), k_max=5, all six aggregations.

Run: ``OMP_NUM_THREADS=1 python benchmarks/autosmote/bench_synthesize.py``
"""

import argparse
import statistics
import time

import torch

from skart._autosmote._synthesis import (
    AGGREGATIONS,
    candidates,
    chosen_candidates,
    gumbel_softmax,
)


def inputs(n, k_max, d, generator):
    x = torch.randn(n, d, generator=generator)
    neighbors = torch.randn(n, k_max, d, generator=generator)
    lam, u = torch.rand(n, generator=generator), torch.rand(n, generator=generator)
    logits = [
        torch.randn(n, m, generator=generator).requires_grad_()
        for m in (k_max, len(AGGREGATIONS), k_max + 1)
    ]
    return x, neighbors, lam, u, logits


def step(contraction, x, neighbors, lam, u, logits, generator):
    lk, la, lw = logits
    k = gumbel_softmax(lk, 1.0, generator=generator)
    a = gumbel_softmax(la, 1.0, generator=generator)
    if contraction:
        c = candidates(x, neighbors, AGGREGATIONS, lam, u, lw)
        z = torch.einsum("nk,na,nkad->nd", k, a, c)
    else:
        z = chosen_candidates(x, neighbors, AGGREGATIONS, lam, u, lw, k, a)
    z.square().sum().backward()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=20, help="steps per timing")
    args = parser.parse_args()
    torch.set_num_threads(1)
    g = torch.Generator().manual_seed(0)
    print("| seeds x features | contraction (ms) | chosen_candidates (ms) | ratio |")
    print("|---|---|---|---|")
    for n, d in [(210, 32), (3350, 64)]:
        case = inputs(n, 5, d, g)
        times = {True: [], False: []}
        for _ in range(args.rounds):
            for contraction in (True, False):
                t0 = time.perf_counter()
                for _ in range(args.repeats):
                    step(contraction, *case, g)
                times[contraction].append((time.perf_counter() - t0) / args.repeats)
        old, new = (statistics.median(times[c]) for c in (True, False))
        print(f"| {n} x {d} | {old * 1e3:.2f} | {new * 1e3:.2f} | {new / old:.2f} |")


if __name__ == "__main__":
    main()
