#!/usr/bin/env python3
"""PyTorch peer for bench/attention: what a user would otherwise run for live attention, a forward pass
with TransformerLens's maths (float32, 2 threads: einsum projections, scores / sqrt(d_head), causal
mask with -inf, softmax; LNPre on processed weights) on the same processed weights and tokens. Times
`import torch` + load, the patterns, and everything the engine's `attention` request computes:
patterns + log-softmax + top-5 + each next token's log-prob and rank + every head's direct logit
attribution (apply_ln_to_stack's way: the head's result through the final LayerNorm's scale, against
the centred unembedding column of the actual next token).

    python3 bench/torch_attention.py WEIGHTS.safetensors CONFIG.json IDS.json REPEATS [DUMP_DIR]

REPEATS 0: one cold run, as a script run once would do it (for the end-to-end comparison). With
DUMP_DIR, the last run's results are written there as raw little-endian arrays for the bench to
compare with the engine's: patterns.f32 [L,H,T,T], next_logprob.f32 [T-1], rank.i32 [T-1],
dla.f32 [L,H,T-1], top_id.i32 [T,5], top_logprob.f32 [T,5]. Prints one JSON line of timings.
Run with /usr/bin/python3 (Debian's torch) and LD_PRELOAD=libtcmalloc_minimal.so.4.
"""
import time

T_START = time.perf_counter()
import json, os, struct, sys  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

T_IMPORTED = time.perf_counter()
torch.set_num_threads(2)


def load(path):
    """F32 safetensors into torch tensors over one buffer, no copy (Debian's torch has no safetensors package)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        buf = bytearray(os.fstat(f.fileno()).st_size - 8 - n)
        f.readinto(buf)
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        assert e["dtype"] == "F32", f"{name}: {e['dtype']}"
        out[name] = torch.frombuffer(buf, dtype=torch.float32, offset=a, count=(b - a) // 4).reshape(e["shape"])
    return out


def norm(x, cfg):
    """LNPre (processed weights fold ln's w and b into the next layer) and its scale, or none."""
    if cfg["normalization_type"] is None:
        return x, torch.ones(x.shape[0], 1)
    x = x - x.mean(-1, keepdim=True)
    scale = (x.pow(2).mean(-1, keepdim=True) + 1e-5).sqrt()
    return x / scale, scale


def run(w, cfg, ids):
    T, E = len(ids), cfg["d_head"]
    t0 = time.perf_counter()
    tokens = torch.tensor(ids)
    resid = w["embed.W_E"][tokens] + w["pos_embed.W_pos"][:T]
    ignore = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)
    patterns, zs = [], []
    for layer in range(cfg["n_layers"]):
        p = f"blocks.{layer}.attn."
        x, _ = norm(resid, cfg)
        q = torch.einsum("td,hde->hte", x, w[p + "W_Q"]) + w[p + "b_Q"][:, None]
        k = torch.einsum("td,hde->hte", x, w[p + "W_K"]) + w[p + "b_K"][:, None]
        v = torch.einsum("td,hde->hte", x, w[p + "W_V"]) + w[p + "b_V"][:, None]
        scores = (q @ k.transpose(1, 2)) / (E**0.5)
        pattern = scores.masked_fill(ignore, float("-inf")).softmax(-1)
        z = pattern @ v
        patterns.append(pattern)
        zs.append(z)
        resid = resid + torch.einsum("hte,hed->td", z, w[p + "W_O"]) + w[p + "b_O"]
    t_patterns = time.perf_counter() - t0
    final, scale = norm(resid, cfg)
    logits = final @ w["unembed.W_U"] + w["unembed.b_U"]
    log_probs = logits.log_softmax(-1)
    top_lp, top_id = log_probs.topk(5, dim=-1)
    nxt = tokens[1:]
    next_logits = logits[:-1].gather(1, nxt[:, None])
    next_lp = log_probs[:-1].gather(1, nxt[:, None])[:, 0]
    rank = 1 + (logits[:-1] > next_logits).sum(-1)
    d = w["unembed.W_U"][:, nxt].T  # [T-1, D]: each position's next-token column
    if cfg["normalization_type"] is not None:
        d = d - d.mean(-1, keepdim=True)
    d = d / scale[:-1]
    dla = [torch.einsum("hte,hed,td->ht", z[:, :-1], w[f"blocks.{layer}.attn.W_O"], d) for layer, z in enumerate(zs)]
    total = time.perf_counter() - t0
    return t_patterns, total, dict(patterns=patterns, next_lp=next_lp, rank=rank, dla=dla, top_id=top_id, top_lp=top_lp)


def dump(out_dir, r):
    os.makedirs(out_dir, exist_ok=True)
    arrays = {
        "patterns.f32": torch.stack(r["patterns"]).numpy().astype("<f4"),
        "next_logprob.f32": r["next_lp"].numpy().astype("<f4"),
        "rank.i32": r["rank"].numpy().astype("<i4"),
        "dla.f32": torch.stack(r["dla"]).numpy().astype("<f4"),
        "top_id.i32": r["top_id"].numpy().astype("<i4"),
        "top_logprob.f32": r["top_lp"].numpy().astype("<f4"),
    }
    for name, a in arrays.items():
        np.ascontiguousarray(a).tofile(os.path.join(out_dir, name))


def main():
    weights, cfg_path, ids_path, repeats = sys.argv[1:5]
    repeats = int(repeats)
    t_load = time.perf_counter()
    w = load(weights)
    cfg = json.load(open(cfg_path))
    ids = json.load(open(ids_path))
    t_loaded = time.perf_counter()
    tp, tt = [], []
    with torch.inference_mode():
        first_p, first_t, r = run(w, cfg, ids)  # cold; the only run when repeats is 0
        for _ in range(repeats):
            a, b, r = run(w, cfg, ids)
            tp.append(a)
            tt.append(b)
    if len(sys.argv) > 5:
        dump(sys.argv[5], r)
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "threads": torch.get_num_threads(),
                "import_s": T_IMPORTED - T_START,
                "load_s": t_loaded - t_load,
                "cold_patterns_s": first_p,
                "cold_total_s": first_t,
                "patterns_s": tp,
                "total_s": tt,
                "since_start_s": time.perf_counter() - T_START,
            }
        )
    )


if __name__ == "__main__":
    main()
