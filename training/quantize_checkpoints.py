#!/usr/bin/env python3
"""Turns weights-only snapshots of a training run (train.py --snapshot-dir) into the bundled demo's
training history: quantized safetensors under TransformerLens names, in the format that
src/core/quantized.ts documents and reads (4-bit groups for embed.W_E / unembed.W_U, 8-bit groups
for the other matrices, float16 for biases and LayerNorm weights).

Heads are renamed within each layer (an exact symmetry: W_Q, W_K, W_V, W_O, b_Q, b_K, b_V permuted
together) so that the run's roles sit where the bundled model has them: --perm "L:a,b,c,d" puts the
run's head a at index 0, b at 1, ... of layer L. The same permutation applies to every snapshot.

    /usr/bin/python3 training/quantize_checkpoints.py --snapshots /tmp/hist/snaps --name demo-attn-2l \\
        --tokens 49152,... --perm 0:... --perm 1:... --out models/demo-attn-2l/checkpoints [--f32-out DIR]
"""
import argparse, json, os, struct, sys

import numpy as np

FOUR_BIT = ("embed.W_E", "unembed.W_U")
EIGHT_BIT_PREFIXES = ("attn.W_", "pos_embed.W_pos")
HEAD_AXIS_TENSORS = ("W_Q", "W_K", "W_V", "W_O", "b_Q", "b_K", "b_V")


def read_f32(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    out = {}
    for name, v in json.loads(b[8:8 + n]).items():
        if name == "__metadata__":
            continue
        lo, hi = v["data_offsets"]
        dt = {"F32": np.float32, "F16": np.float16}[v["dtype"]]
        out[name] = np.frombuffer(b[8 + n + lo:8 + n + hi], dtype=dt).astype(np.float32).reshape(v["shape"])
    return out


def write(path, tensors, metadata=None):
    """tensors: name -> numpy array (float32, float16, int8 or uint8), written in this order."""
    codes = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int8): "I8", np.dtype(np.uint8): "U8"}
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name, a in tensors.items():
        b = np.ascontiguousarray(a).tobytes()
        header[name] = {"dtype": codes[a.dtype], "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
    os.replace(path + ".tmp", path)


def quantize(x, bits, group):
    """Symmetric per-group quantization along the last axis; each group's scale is the one (of a few
    clipping ratios of its max |x|) with the least squared error. Returns (stored values, f16 scales)."""
    qmax = 7 if bits == 4 else 127
    g = x.reshape(-1, group).astype(np.float64)
    amax = np.abs(g).max(1, keepdims=True)
    best_s, best_err = None, None
    for ratio in np.linspace(0.6, 1.0, 17):
        s = np.float16(np.maximum(amax * ratio / qmax, 2.0 ** -14)).astype(np.float64)  # as stored (f16, normal)
        q = np.clip(np.round(g / s), -qmax - (bits == 4), qmax)
        err = ((q * s - g) ** 2).sum(1, keepdims=True)
        if best_s is None:
            best_s, best_err = s, err
        else:
            better = err < best_err
            best_s, best_err = np.where(better, s, best_s), np.where(better, err, best_err)
    q = np.clip(np.round(g / best_s), -qmax - (bits == 4), qmax).astype(np.int64).reshape(x.shape)
    scales = best_s.astype(np.float16).reshape(*x.shape[:-1], x.shape[-1] // group)
    if bits == 8:
        return q.astype(np.int8), scales
    nib = (q + 8).astype(np.uint8).reshape(*x.shape[:-1], x.shape[-1] // 2, 2)
    return (nib[..., 0] | (nib[..., 1] << 4)).astype(np.uint8), scales


def dequantize(values, scales, bits, group):
    """The reader's arithmetic (quantized.ts), in numpy: q × scale rounded once to float32."""
    if bits == 4:
        q = np.stack([(values & 0x0F).astype(np.int64) - 8, (values >> 4).astype(np.int64) - 8], -1)
        q = q.reshape(*values.shape[:-1], values.shape[-1] * 2)
    else:
        q = values.astype(np.int64)
    s = np.repeat(scales.astype(np.float32), group, axis=-1)
    return (q.astype(np.float32) * s).astype(np.float32)


def quantized_file(tensors, group4, group8):
    out, spec = {}, {}
    for name, x in tensors.items():
        bits = 4 if name in FOUR_BIT else 8 if any(p in name for p in EIGHT_BIT_PREFIXES) else None
        if bits is None:
            out[name] = x.astype(np.float16)
            continue
        group = group4 if bits == 4 else group8
        values, scales = quantize(x, bits, group)
        out[name], out[name + ".scales"] = values, scales
        spec[name] = {"bits": bits, "group": group}
    return out, {"head_lens.quantized": json.dumps(spec, separators=(",", ":"))}


def permute(tensors, perms):
    out = dict(tensors)
    for layer, order in perms.items():
        for t in HEAD_AXIS_TENSORS:
            name = f"blocks.{layer}.attn.{t}"
            out[name] = tensors[name][order]
    return out


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--snapshots", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--tokens", required=True, help="comma-separated token counts to keep")
    p.add_argument("--perm", action="append", default=[], help="LAYER:h0,h1,... (new index i holds old head h_i)")
    p.add_argument("--out", required=True)
    p.add_argument("--f32-out", default=None, help="also write the permuted float32 snapshots here (to measure the error)")
    p.add_argument("--tokens-per-step", type=int, default=0,
                   help="name files by training step (tokens / this) instead of tokens: TransformerLens reads labels "
                        "up to 1e9 as steps, and a small run's token counts are below that")
    p.add_argument("--group4", type=int, default=32)
    p.add_argument("--group8", type=int, default=32)
    a = p.parse_args()
    perms = {int(s.split(":")[0]): [int(h) for h in s.split(":")[1].split(",")] for s in a.perm}
    os.makedirs(a.out, exist_ok=True)
    for tok in [int(t) for t in a.tokens.split(",")]:
        src = read_f32(os.path.join(a.snapshots, f"{a.name}_{tok}.safetensors"))
        t = permute(src, perms)
        if a.f32_out:
            os.makedirs(a.f32_out, exist_ok=True)
            write(os.path.join(a.f32_out, f"{a.name}_{tok // a.tokens_per_step if a.tokens_per_step else tok}.safetensors"), t)
        q, meta = quantized_file(t, a.group4, a.group8)
        if a.tokens_per_step and tok % a.tokens_per_step:
            sys.exit(f"{tok} tokens is not a whole number of {a.tokens_per_step}-token steps")
        label = tok // a.tokens_per_step if a.tokens_per_step else tok
        path = os.path.join(a.out, f"{a.name}_{label}.safetensors")
        write(path, q, meta)
        rel = {n: float(np.sqrt(((dequantize(q[n], q[n + ".scales"], s["bits"], s["group"]) - t[n]) ** 2).mean() / (t[n] ** 2).mean()))
               for n, s in json.loads(meta["head_lens.quantized"]).items()}
        worst = max(rel, key=rel.get)
        print(f"{path}: {os.path.getsize(path):,} bytes; largest relative RMS error {rel[worst]:.4f} ({worst})")


if __name__ == "__main__":
    main()
