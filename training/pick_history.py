#!/usr/bin/env python3
"""Picks the bundled demo's training history from a snapshot run (train.py --snapshot-dir): reads the
snapshots' eval lines in the run's train.log, finds the roles in the last snapshot (layer 0's
previous-token head, layer 1's induction head, layer 0's two most self-attending other heads), and
chooses --count snapshots: the first and the last, every snapshot of the induction head's rise (from 10 %
to 90 % of it, with the one before and after), and the rest log-spaced. Prints the table and the
quantize_checkpoints.py command (heads permuted to the bundled model's places: L0H3 previous-token,
L0H0/L0H1 self-attending, L1H0 induction).

    /usr/bin/python3 training/pick_history.py --log /tmp/hist/run/train.log --snapshots /tmp/hist/snaps --count 13
"""
import argparse, json, math, os, sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from quantize_checkpoints import read_f32  # noqa: E402
from train import AttnOnly  # noqa: E402


def self_scores(path, seed=0, n=16):
    """Layer 0's mean attention of each token to itself, on BOS + random tokens."""
    w = read_f32(path)
    V, d = w["embed.W_E"].shape
    h, _, dh = w["blocks.0.attn.W_Q"].shape
    L = 1 + max(int(k.split(".")[1]) for k in w if k.startswith("blocks."))
    m = AttnOnly(V, d, h, dh, w["pos_embed.W_pos"].shape[0], L)
    for k, t in w.items():
        m.p[k].data.copy_(torch.from_numpy(t))
    g = torch.Generator().manual_seed(seed)
    toks = torch.cat([torch.zeros(n, 1, dtype=torch.long), torch.randint(1, V - 1, (n, 127), generator=g)], 1)
    with torch.no_grad():
        _, pats = m(toks, return_patterns=True)
    return [pats[0][:, i].diagonal(0, -2, -1)[:, 1:].mean().item() for i in range(h)]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--log", required=True)
    p.add_argument("--snapshots", required=True)
    p.add_argument("--name", default="demo-attn-2l")
    p.add_argument("--count", type=int, default=13)
    a = p.parse_args()
    snaps = [json.loads(l) for l in open(a.log) if '"snapshot": true' in l]
    snaps = [s for s in snaps if os.path.exists(os.path.join(a.snapshots, f"{a.name}_{s['tokens']}.safetensors"))]
    last = snaps[-1]["eval"]
    ind_head = int(np.argmax(last["induction_scores"][1]))
    prev_head = int(np.argmax(last["prev_token_scores"][0]))
    selfs = self_scores(os.path.join(a.snapshots, f"{a.name}_{snaps[-1]['tokens']}.safetensors"))
    others = sorted((h for h in range(len(selfs)) if h != prev_head), key=lambda h: -selfs[h])
    perm0 = others[:2] + others[2:] + [prev_head]
    perm1 = [ind_head] + [h for h in range(len(selfs)) if h != ind_head]
    ind = [s["eval"]["induction_scores"][1][ind_head] for s in snaps]
    lo, hi = ind[0] + 0.1 * (ind[-1] - ind[0]), ind[0] + 0.9 * (ind[-1] - ind[0])
    rise = [i for i, v in enumerate(ind) if lo <= v <= hi]
    start = (rise[0] - 1) if rise else max(range(len(ind)), key=lambda i: ind[min(i + 1, len(ind) - 1)] - ind[i])
    end = (rise[-1] + 1) if rise else start + 1
    span = list(range(max(0, start), min(len(snaps), end + 1)))
    if len(span) > a.count // 2:  # no sharp rise (or a very dense run): at most half the picks there, evenly
        span = [span[round(i * (len(span) - 1) / (a.count // 2 - 1))] for i in range(a.count // 2)]
    keep = {0, len(snaps) - 1, *span}
    rest = [i for i in range(len(snaps)) if i not in keep]
    need = a.count - len(keep)
    if need > 0 and rest:  # log-spaced by tokens over the remaining snapshots
        logs = [math.log(snaps[i]["tokens"]) for i in rest]
        for t in np.linspace(min(logs), max(logs), need):
            free = [i for i in rest if i not in keep]
            if free:
                keep.add(min(free, key=lambda i: abs(math.log(snaps[i]["tokens"]) - t)))
    keep = sorted(keep)
    print(f"roles in the last snapshot: L0 previous-token H{prev_head}, L1 induction H{ind_head}, L0 self-attention "
          f"{[round(s, 3) for s in selfs]} -> --perm 0:{','.join(map(str, perm0))} --perm 1:{','.join(map(str, perm1))}")
    print("| tokens | L0H3 prev-token | L1H0 induction | val loss prose / code |\n|---|---|---|---|")
    for i in keep:
        e = snaps[i]["eval"]
        print(f"| {snaps[i]['tokens']:,} | {e['prev_token_scores'][0][prev_head]:.3f} | {e['induction_scores'][1][ind_head]:.3f} | "
              f"{e['val_loss_prose']:.3f} / {e['val_loss_code']:.3f} |")
    print(f"\n/usr/bin/python3 training/quantize_checkpoints.py --snapshots {a.snapshots} --name {a.name} "
          f"--tokens {','.join(str(snaps[i]['tokens']) for i in keep)} --perm 0:{','.join(map(str, perm0))} "
          f"--perm 1:{','.join(map(str, perm1))} --tokens-per-step 2048 --out models/{a.name}/checkpoints --f32-out /tmp/{a.name}-f32")


if __name__ == "__main__":
    main()
