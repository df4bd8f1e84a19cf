#!/usr/bin/env python3
"""Peer for bench/attention: the same forward pass in float32 numpy on the same processed weights
(LN/LNPre/none, standard positions): every pattern, then log-softmax, top-5, the next token's
log-prob and rank, and each head's direct logit attribution. Prints one JSON line with per-repeat
seconds (time to patterns and total) and checksums the bench compares with the engine's.
    python3 bench/numpy_attention.py WEIGHTS.safetensors CONFIG.json IDS.json REPEATS
"""
import json, sys, time
import numpy as np

from numpy_peer import load  # the same float32 safetensors reader as the head peer


def norm(x, cfg, w=None, b=None):
    if cfg["normalization_type"] is None:
        return x, np.ones((x.shape[0], 1), np.float32)
    x = x - x.mean(-1, keepdims=True)
    scale = np.sqrt((x * x).mean(-1, keepdims=True) + 1e-5)
    y = x / scale
    if w is not None:
        y = y * w
    if b is not None:
        y = y + b
    return y, scale


def run(w, cfg, ids):
    T, H, E = len(ids), cfg["n_heads"], cfg["d_head"]
    t0 = time.perf_counter()
    resid = w["embed.W_E"][ids] + w["pos_embed.W_pos"][:T]
    causal = np.tril(np.ones((T, T), bool))
    patterns, zs = [], []
    for l in range(cfg["n_layers"]):
        p = f"blocks.{l}."
        xn, _ = norm(resid, cfg, w.get(p + "ln1.w"), w.get(p + "ln1.b"))
        q = np.einsum("td,hde->hte", xn, w[p + "attn.W_Q"]) + w[p + "attn.b_Q"][:, None]
        k = np.einsum("td,hde->hte", xn, w[p + "attn.W_K"]) + w[p + "attn.b_K"][:, None]
        v = np.einsum("td,hde->hte", xn, w[p + "attn.W_V"]) + w[p + "attn.b_V"][:, None]
        s = np.where(causal, q @ k.transpose(0, 2, 1) / np.float32(np.sqrt(E)), -np.inf)
        s = np.exp(s - s.max(-1, keepdims=True))
        pat = s / s.sum(-1, keepdims=True)
        patterns.append(pat)
        z = pat @ v
        zs.append(z)
        resid = resid + np.einsum("hte,hed->td", z, w[p + "attn.W_O"]) + w[p + "attn.b_O"]
    t_patterns = time.perf_counter() - t0
    final, scale = norm(resid, cfg, w.get("ln_final.w"), w.get("ln_final.b"))
    logits = final @ w["unembed.W_U"] + w["unembed.b_U"]
    m = logits.max(-1, keepdims=True)
    lse = m + np.log(np.exp(logits - m).sum(-1, keepdims=True))
    top = np.argpartition(-logits, 5, axis=-1)[:, :5]
    nxt = np.array(ids[1:] + [0])
    nl = logits[np.arange(T), nxt]
    next_lp = nl - lse[:, 0]
    rank = 1 + (logits > nl[:, None]).sum(-1)
    d = w["unembed.W_U"][:, nxt].T  # [T, D]
    if cfg["normalization_type"] is not None:
        d = d - d.mean(-1, keepdims=True)
    dla = [np.einsum("hte,hed,td->ht", z, w[f"blocks.{l}.attn.W_O"], d) / scale[:, 0] for l, z in enumerate(zs)]
    total = time.perf_counter() - t0
    return t_patterns, total, patterns, next_lp, rank, top, dla


def main():
    w = load(sys.argv[1])
    cfg = json.load(open(sys.argv[2]))
    ids = json.load(open(sys.argv[3]))
    repeats = int(sys.argv[4])
    run(w, cfg, ids)  # warm-up
    tp, tt = [], []
    for _ in range(repeats):
        a, b, patterns, next_lp, rank, top, dla = run(w, cfg, ids)
        tp.append(a)
        tt.append(b)
    print(json.dumps({
        "patterns_s": tp, "total_s": tt,
        "pattern_l1h0_row_last": patterns[-1][0, -1].tolist(),
        "next_logprob": next_lp[:-1].tolist(), "rank": rank[:-1].tolist(),
        "dla_last_layer_h0": dla[-1][0, :-1].tolist(),
    }))


if __name__ == "__main__":
    main()
