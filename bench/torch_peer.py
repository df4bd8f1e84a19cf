#!/usr/bin/env python3
"""GPU peer for the whole-model benchmark: the dense head analysis (both streamed reductions, key
selection, queries and outputs of each key) in PyTorch on CUDA, float32 without TF32, on the same
processed weights Head Lens analyzes. Prints one JSON line: seconds per run and the keys per head.
    python3 bench/torch_peer.py PROCESSED.safetensors BOS REPEATS [BLOCK_ROWS]
"""
import json, sys, time
import torch
from safetensors.torch import load_file

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False


def head(w, layer, h, bos, block, pw, sizes=(5, 20, 20)):
    WE, WU = w["embed.W_E"], w["unembed.W_U"]
    b = f"blocks.{layer}.attn."
    q = WE @ w[b + "W_Q"][h]
    k = WE @ w[b + "W_K"][h]
    k = k - k[bos]
    s = WE @ w[b + "W_V"][h]
    ou = w[b + "W_O"][h] @ WU
    ou = ou - ou.mean(dim=1, keepdim=True)
    qT = q.T.contiguous()
    V = WE.shape[0]
    max_qk = torch.empty(V, device=WE.device)
    max_ov = torch.empty(V, device=WE.device)
    for st in range(0, V, block):
        max_qk[st:st + block] = (k[st:st + block] @ qT).amax(dim=1)
        max_ov[st:st + block] = (s[st:st + block] @ ou).amax(dim=1)
    imp = max_qk.double() * max_ov.double() * pw
    keys = torch.topk(imp, sizes[0]).indices
    out = []
    for key in keys.tolist():
        col = (q @ k[key]).double() * pw
        row = s[key] @ ou
        out.append((key, torch.topk(col, sizes[1]).indices.tolist(), torch.topk(row, sizes[2]).indices.tolist()))
    return out


def main():
    path, bos, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    block = int(sys.argv[4]) if len(sys.argv) > 4 else 8192
    w = {n: t.cuda() for n, t in load_file(path).items()}
    V = w["embed.W_E"].shape[0]
    layers = 1 + max(int(n.split(".")[1]) for n in w if n.startswith("blocks."))
    H = w["blocks.0.attn.W_Q"].shape[0]
    pw = torch.full((V,), (1.0 / V) ** 0.1, dtype=torch.float64, device="cuda")
    times, keys = [], None
    for _ in range(reps + 1):  # the first run warms CUDA up and is not counted
        torch.cuda.synchronize()
        t = time.perf_counter()
        keys = [[r[0] for r in head(w, l, h, bos, block, pw)] for l in range(layers) for h in range(H)]
        torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
    print(json.dumps({"device": torch.cuda.get_device_name(0), "seconds_whole_model": times[1:], "keys": keys}))


if __name__ == "__main__":
    main()
