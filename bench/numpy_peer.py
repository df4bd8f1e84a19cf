#!/usr/bin/env python3
"""Peer for bench/denseHead: the same algorithm in blocked numpy (reductions along the contiguous
axis), reading the same processed weights. Prints one JSON line with per-repeat seconds.
    python3 bench/numpy_peer.py WEIGHTS.safetensors LAYER HEAD REPEATS BLOCK_ROWS BOS
"""
import json, struct, sys, time
import numpy as np


def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        assert e["dtype"] == "F32"
        out[name] = np.frombuffer(data[a:b], dtype=np.float32).reshape(e["shape"])
    return out


def row_max(x, m, block):
    """out[i] = max_j (x @ m)[i, j], block rows at a time."""
    out = np.empty(x.shape[0], dtype=np.float32)
    for s in range(0, x.shape[0], block):
        out[s:s + block] = (x[s:s + block] @ m).max(axis=1)
    return out


def topk(v, n):
    idx = np.argpartition(-v, min(n, len(v) - 1))[:n]
    return idx[np.lexsort((idx, -v[idx]))]


def head(w, layer, h, bos, block, pw, sizes=(5, 20, 20)):
    WE, WU = w["embed.W_E"], w["unembed.W_U"]
    b = f"blocks.{layer}.attn."
    q = WE @ w[b + "W_Q"][h]
    k = WE @ w[b + "W_K"][h]
    k = k - k[bos]
    s = WE @ w[b + "W_V"][h]
    ou = w[b + "W_O"][h] @ WU
    ou = ou - ou.mean(axis=1, keepdims=True)
    max_qk = row_max(k, np.ascontiguousarray(q.T), block)
    max_ov = row_max(s, ou, block)
    imp = max_qk * max_ov * pw
    keys = topk(imp, sizes[0])
    rep = []
    for key in keys:
        col = q @ k[key]
        qs = topk(col * pw, sizes[1])
        row = s[key] @ ou
        os_ = topk(row, sizes[2])
        rep.append((int(key), [int(x) for x in qs], [int(x) for x in os_]))
    return rep


def main():
    path, layer, h, reps, block, bos = sys.argv[1], *map(int, sys.argv[2:7])
    w = load(path)
    V = w["embed.W_E"].shape[0]
    pw = np.full(V, (1.0 / V) ** 0.1, dtype=np.float32)
    times, rep = [], None
    for _ in range(reps):
        t = time.perf_counter()
        rep = head(w, layer, h, bos, block, pw)
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    a = np.random.default_rng(0).standard_normal((4096, 4096), dtype=np.float32)
    t = time.perf_counter()
    a @ a
    sg = time.perf_counter() - t
    print(json.dumps({"seconds": times, "keys": [r[0] for r in rep], "sgemm4096_s": sg}))


if __name__ == "__main__":
    main()
