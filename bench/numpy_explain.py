#!/usr/bin/env python3
"""Peer for bench/explain: "why" for one head and one query as a TransformerLens user writes it in
a notebook from an ActivationCache, in float32 numpy on the same processed weights (LN / LNPre /
none, standard positions): the residual stream's parts before the layer stacked as
[embed, pos, every earlier head's z·W_O (stack_head_results), bias], put through ln1 with the
run's scale (apply_ln_to_stack), projected to the query's and every key's parts, and the C×C terms
of every key. The forward pass that fills the cache is not timed. Prints one JSON line: seconds per
repeat, and the query's terms at its last key for the bench to compare.
    python3 bench/numpy_explain.py WEIGHTS.safetensors CONFIG.json IDS.json LAYER HEAD QUERY REPEATS
"""
import json, sys, time
import numpy as np

from numpy_peer import load
from numpy_attention import norm


def cache(w, cfg, ids, layer):
    """hook_z of the layers before `layer`, hook_pattern, and ln1's scale at `layer`."""
    T, E = len(ids), cfg["d_head"]
    resid = w["embed.W_E"][ids] + w["pos_embed.W_pos"][:T]
    causal = np.tril(np.ones((T, T), bool))
    zs = []
    for l in range(layer + 1):
        p = f"blocks.{l}."
        xn, scale = norm(resid, cfg, w.get(p + "ln1.w"), w.get(p + "ln1.b"))
        if l == layer:
            return zs, scale
        q = np.einsum("td,hde->hte", xn, w[p + "attn.W_Q"]) + w[p + "attn.b_Q"][:, None]
        k = np.einsum("td,hde->hte", xn, w[p + "attn.W_K"]) + w[p + "attn.b_K"][:, None]
        v = np.einsum("td,hde->hte", xn, w[p + "attn.W_V"]) + w[p + "attn.b_V"][:, None]
        s = np.where(causal, q @ k.transpose(0, 2, 1) / np.float32(np.sqrt(E)), -np.inf)
        s = np.exp(s - s.max(-1, keepdims=True))
        z = (s / s.sum(-1, keepdims=True)) @ v
        zs.append(z)
        resid = resid + np.einsum("hte,hed->td", z, w[p + "attn.W_O"]) + w[p + "attn.b_O"]


def explain(w, cfg, ids, layer, head, query, zs, scale):
    T, D, E = query + 1, cfg["d_model"], cfg["d_head"]
    parts = [w["embed.W_E"][ids[:T]], w["pos_embed.W_pos"][:T]]
    for l, z in enumerate(zs):  # stack_head_results
        parts.extend(np.einsum("hte,hed->htd", z[:, :T], w[f"blocks.{l}.attn.W_O"]))
    bias = sum((w[f"blocks.{l}.attn.b_O"] for l in range(layer)), np.zeros(D, np.float32))
    parts.append(np.broadcast_to(bias, (T, D)))
    stack = np.stack(parts)  # [C, T, D]
    if cfg["normalization_type"] is not None:  # apply_ln_to_stack: centre each part, divide by the run's scale
        stack = (stack - stack.mean(-1, keepdims=True)) / scale[None, :T]
    p = f"blocks.{layer}."
    q = stack[:, query] @ w[p + "attn.W_Q"][head]  # [C, E]
    k = stack @ w[p + "attn.W_K"][head]  # [C, T, E]
    q[-1] += w[p + "attn.b_Q"][head]
    k[-1] += w[p + "attn.b_K"][head]
    return np.einsum("ce,ste->tcs", q, k) / np.float32(np.sqrt(E))  # [T, C, C]


def main():
    w = load(sys.argv[1])
    cfg = json.load(open(sys.argv[2]))
    ids = json.load(open(sys.argv[3]))
    layer, head, query, repeats = map(int, sys.argv[4:8])
    zs, scale = cache(w, cfg, ids, layer)
    explain(w, cfg, ids, layer, head, query, zs, scale)  # warm-up
    secs = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        terms = explain(w, cfg, ids, layer, head, query, zs, scale)
        secs.append(time.perf_counter() - t0)
    print(json.dumps({"seconds": secs, "terms_last_key": terms[query].ravel().tolist()}))


if __name__ == "__main__":
    main()
