#!/usr/bin/env python3
"""Trains a bundled demo model: an attention-only transformer in TransformerLens's architecture
(learned positional embedding, LayerNorm before attention and unembedding, biases, separate W_E/W_U),
on the corpus built by build-corpus.mjs. Development-time tool only; the product never runs Python.

Seeded; checkpoints every few minutes and resumes from the latest checkpoint (training/runs/<name>/);
on a fresh machine, --init-from continues from an exported model folder. Runs on a GPU when there is
one (bf16 autocast; training/gpu-train.sh trains both demo models in one short lease). Exports the model in
Head Lens's local format (config.json with TL names, fp16 model.safetensors with TL state-dict
names, unprocessed), vocab.json (model id -> GPT-2 id), priors.json (corpus unigram counts), a
training log and a model card.

Training history (--snapshot-dir): weights-only float32 snapshots (<dir>/<name>_<tokens>.safetensors, TL names)
at --snapshots log-spaced token counts from --snapshot-from to --total-tokens, plus every --snapshot-every tokens
in [--dense-from, --dense-to] (where a phase change is expected), each with an eval line in the log; the bundled
demo's checkpoints/ are to be picked from such a run (pick_history.py, then quantize_checkpoints.py). --stop-tokens
ends a run early without changing its LR schedule, and a resumed run (same command without --fresh) continues its
warm-up and cosine where they were (the log of the first such run: logs/demo-attn-2l.history.train.log).

    LD_PRELOAD=libtcmalloc_minimal.so.4 python3 training/train.py --layers 2 --out models/demo-attn-2l
"""
import argparse, json, math, os, struct, sys, time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--d-model", type=int, default=128)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--d-head", type=int, default=32)
    p.add_argument("--n-ctx", type=int, default=256)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--total-tokens", type=float, default=60e6, help="planned tokens (sets the LR schedule)")
    p.add_argument("--repeat-rate", type=float, default=0.15, help="share of sequences with a repeated span")
    p.add_argument("--random-share", type=float, default=0.3, help="share of repeated spans made of random tokens")
    p.add_argument("--init-from", default=None,
                   help="start from this export (a model folder) with fresh optimizer state; its training log "
                        "(<folder>.train.log, else training/logs/<name>.train.log) supplies the tokens already seen")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--data", default=os.path.join(HERE, "data"))
    p.add_argument("--run", default=None, help="checkpoint folder (default training/runs/<name>)")
    p.add_argument("--out", required=True, help="model folder to export")
    p.add_argument("--name", default=None, help="model name (default: the --out folder's name)")
    p.add_argument("--max-minutes", type=float, default=1e9, help="stop (after a checkpoint) after this long")
    p.add_argument("--ckpt-minutes", type=float, default=5.0)
    p.add_argument("--export-only", action="store_true")
    p.add_argument("--fresh", action="store_true", help="start from random weights even if a checkpoint exists")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--time-budget-minutes", type=float, default=None,
                   help="end the LR schedule after this long even if --total-tokens is not reached (GPU leases)")
    p.add_argument("--snapshot-dir", default=None, help="write weights-only snapshots here (training history)")
    p.add_argument("--snapshots", type=int, default=24, help="log-spaced snapshot count")
    p.add_argument("--snapshot-from", type=float, default=5e4, help="first log-spaced snapshot (tokens)")
    p.add_argument("--snapshot-every", type=float, default=0, help="extra snapshots every this many tokens ...")
    p.add_argument("--dense-from", type=float, default=0, help="... from this token count ...")
    p.add_argument("--dense-to", type=float, default=0, help="... to this one")
    p.add_argument("--stop-tokens", type=float, default=None, help="stop here (the LR schedule still spans --total-tokens)")
    return p.parse_args()


def snapshot_steps(args, tok_per_step):
    """Steps after which a snapshot is written: log-spaced over the run, denser where asked."""
    lo, hi = math.log(args.snapshot_from), math.log(args.total_tokens)
    toks = [math.exp(lo + (hi - lo) * i / max(1, args.snapshots - 1)) for i in range(args.snapshots)]
    if args.snapshot_every > 0:
        t = args.dense_from
        while t <= args.dense_to:
            toks.append(t)
            t += args.snapshot_every
    return sorted({max(1, round(t / tok_per_step)) for t in toks})


class TLParams(torch.nn.Module):
    """Parameters under TransformerLens state-dict names (ParameterDict forbids '.' in keys)."""

    def __setitem__(self, name, param):
        self.register_parameter(name.replace(".", "__"), param)

    def __getitem__(self, name):
        return getattr(self, name.replace(".", "__"))

    def items(self):
        return [(k.replace("__", "."), v) for k, v in self.named_parameters()]


class AttnOnly(torch.nn.Module):
    """TransformerLens HookedTransformer with attn_only=True, normalization_type='LN'."""

    def __init__(self, V, d, h, dh, n_ctx, n_layers):
        super().__init__()
        self.V, self.d, self.h, self.dh, self.n_ctx, self.L = V, d, h, dh, n_ctx, n_layers
        std = 0.8 / math.sqrt(d)  # TL's default initializer_range
        P = lambda *s: torch.nn.Parameter(torch.randn(*s) * std)
        Z = lambda *s: torch.nn.Parameter(torch.zeros(*s))
        O = lambda *s: torch.nn.Parameter(torch.ones(*s))
        self.p = TLParams()
        self.p["embed.W_E"] = P(V, d)
        self.p["pos_embed.W_pos"] = P(n_ctx, d)
        for l in range(n_layers):
            b = f"blocks.{l}."
            self.p[b + "ln1.w"], self.p[b + "ln1.b"] = O(d), Z(d)
            for m in "QKV":
                self.p[b + f"attn.W_{m}"] = P(h, d, dh)
                self.p[b + f"attn.b_{m}"] = Z(h, dh)
            self.p[b + "attn.W_O"] = P(h, dh, d)
            self.p[b + "attn.b_O"] = Z(d)
        self.p["ln_final.w"], self.p["ln_final.b"] = O(d), Z(d)
        self.p["unembed.W_U"] = P(d, V)
        self.p["unembed.b_U"] = Z(V)

    def state(self):  # TL names ("." is not allowed in ParameterDict keys on some versions: keep a map)
        return {k: v for k, v in self.p.items()}

    @staticmethod
    def ln(x, w, b):
        x = x - x.mean(-1, keepdim=True)
        x = x / (x.pow(2).mean(-1, keepdim=True) + 1e-5).sqrt()
        return x * w + b

    def forward(self, tokens, return_patterns=False):
        p = self.p
        T = tokens.shape[1]
        x = p["embed.W_E"][tokens] + p["pos_embed.W_pos"][:T]
        mask = torch.triu(torch.ones(T, T, dtype=torch.bool, device=tokens.device), 1)
        patterns = []
        for l in range(self.L):
            b = f"blocks.{l}."
            xn = self.ln(x, p[b + "ln1.w"], p[b + "ln1.b"])
            q = torch.einsum("btd,hde->bhte", xn, p[b + "attn.W_Q"]) + p[b + "attn.b_Q"][None, :, None]
            k = torch.einsum("btd,hde->bhte", xn, p[b + "attn.W_K"]) + p[b + "attn.b_K"][None, :, None]
            v = torch.einsum("btd,hde->bhte", xn, p[b + "attn.W_V"]) + p[b + "attn.b_V"][None, :, None]
            if return_patterns or not hasattr(F, "scaled_dot_product_attention"):
                s = torch.einsum("bhqe,bhke->bhqk", q, k) / math.sqrt(self.dh)
                a = s.masked_fill(mask, float("-inf")).softmax(-1)
                patterns.append(a)
                z = torch.einsum("bhqk,bhke->bhqe", a, v)
            else:  # same maths, fused kernel (flash attention on a GPU; PyTorch ≥ 2.0)
                z = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + torch.einsum("bhqe,hed->bqd", z, p[b + "attn.W_O"]) + p[b + "attn.b_O"]
        x = self.ln(x, p["ln_final.w"], p["ln_final.b"])
        logits = x @ p["unembed.W_U"] + p["unembed.b_U"]
        return (logits, patterns) if return_patterns else logits


def load_data(d, device):
    """The whole corpus as int64 tensors on the training device (≈ 170 MB): batches are cut there."""
    m = lambda n: torch.from_numpy(np.fromfile(os.path.join(d, n), dtype=np.uint16).astype(np.int64)).to(device)
    return {k: m(f"{k}.u16") for k in ("train_prose", "train_code", "val_prose", "val_code")}


def batch(gen, arr_by_kind, B, T, bos, repeat_rate, vocab_hi, random_share=0.3):
    """Half prose, half code; a share of sequences get a repeated span (the data an induction head is
    for), `random_share` of those spans random tokens so that copying cannot lean on bigrams."""
    dev = arr_by_kind[0].device
    r = lambda *s: torch.rand(*s, generator=gen, device=dev)
    offs = torch.arange(T - 1, device=dev)
    rows = []
    for kind, n in ((0, B - B // 2), (1, B // 2)):
        arr = arr_by_kind[kind]
        starts = (r(n) * (len(arr) - T)).long()
        rows.append(arr[starts[:, None] + offs])
    seqs = torch.cat([torch.full((B, 1), bos, device=dev), torch.cat(rows)], 1)
    rep = r(B) < repeat_rate
    L = 8 + (r(B) * 56).long()                              # span length in [8, 64)
    src = 1 + (r(B) * (T - 2 * L - 1)).long()               # src in [1, T - 2L)
    dst = src + L + (r(B) * (T - L + 1 - src - L)).long()   # dst in [src + L, T - L]
    idx = torch.arange(T, device=dev)[None]
    in_src = (idx >= src[:, None]) & (idx < (src + L)[:, None]) & (rep & (r(B) < random_share))[:, None]
    noise = 1 + (r(B, T) * (vocab_hi - 1)).long()
    seqs = torch.where(in_src, noise, seqs)
    in_dst = (idx >= dst[:, None]) & (idx < (dst + L)[:, None]) & rep[:, None]
    return seqs.gather(1, torch.where(in_dst, idx - (dst - src)[:, None], idx))


@torch.no_grad()
def evaluate(model, data, bos, seed=0, n=24):
    model.eval()
    rng = np.random.default_rng(seed)
    T = model.n_ctx
    out = {}
    for kind in ("prose", "code"):
        arr = data[f"val_{kind}"].cpu().numpy()
        starts = rng.integers(0, len(arr) - T, n)
        toks = torch.from_numpy(np.stack([np.concatenate([[bos], arr[s:s + T - 1]]) for s in starts]).astype(np.int64))
        toks = toks.to(data[f"val_{kind}"].device)
        logits = model(toks)
        out[f"val_loss_{kind}"] = F.cross_entropy(logits[:, :-1].reshape(-1, model.V), toks[:, 1:].reshape(-1)).item()
    out.update(head_scores(model, bos, seed))
    model.train()
    return out


@torch.no_grad()
def head_scores(model, bos, seed=0, n=16, rep=50):
    """prev-token score: mean attention i -> i-1 on random tokens; induction score: on BOS + r + r
    (|r| = 50), mean attention from each second-copy token to the token after its first occurrence."""
    g = torch.Generator().manual_seed(seed)
    V = model.V
    rand = torch.randint(1, V - 1, (n, model.n_ctx - 1), generator=g)
    dev = model.p["embed.W_E"].device
    toks = torch.cat([torch.full((n, 1), bos), rand], 1).to(dev)
    _, pats = model(toks, return_patterns=True)
    prev = [[pats[l][:, h].diagonal(-1, -2, -1)[:, 1:].mean().item() for h in range(model.h)] for l in range(model.L)]
    r = torch.randint(1, V - 1, (n, rep), generator=g)
    toks = torch.cat([torch.full((n, 1), bos), r, r], 1).to(dev)
    _, pats = model(toks, return_patterns=True)
    ind = [[pats[l][:, h].diagonal(-(rep - 1), -2, -1)[:, -rep:].mean().item() for h in range(model.h)] for l in range(model.L)]
    return {"prev_token_scores": prev, "induction_scores": ind}


def read_safetensors(path):
    """Our own fp16 exports (write_safetensors below), as float32 tensors."""
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    out = {}
    for name, v in json.loads(b[8:8 + n]).items():
        assert v["dtype"] == "F16", f"{path}: {name} is {v['dtype']}, expected F16"
        lo, hi = v["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(b[8 + n + lo:8 + n + hi], dtype=np.float16).astype(np.float32).reshape(v["shape"]))
    return out


def write_safetensors(path, tensors, dtype=torch.float16):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        a = t.detach().cpu().to(dtype).contiguous().numpy()
        b = a.tobytes()
        header[name] = {"dtype": "F16" if dtype == torch.float16 else "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def export(model, args, state, data_dir, name):
    os.makedirs(args.out, exist_ok=True)
    vocab = json.load(open(os.path.join(data_dir, "vocab.json")))
    cfg = {
        "model_name": name, "n_layers": model.L, "d_model": model.d, "n_heads": model.h, "d_head": model.dh,
        "d_vocab": model.V, "n_ctx": model.n_ctx, "positional_embedding_type": "standard",
        "normalization_type": "LN", "attn_only": True, "tokenizer_name": "gpt2", "bos_token_id": vocab["bos"],
        "vocab_map": "vocab.json", "priors": "priors.json",
    }
    json.dump(cfg, open(os.path.join(args.out, "config.json"), "w"), indent=2)
    json.dump({"tokenizer": "gpt2", "bos": vocab["bos"], "unk": vocab["unk"], "gpt2Ids": vocab["gpt2Ids"]},
              open(os.path.join(args.out, "vocab.json"), "w"))
    uni = json.load(open(os.path.join(data_dir, "unigram.json")))
    json.dump({"source": "training corpus unigram counts (train split)", "counts": [int(c) for c in uni["counts"]]},
              open(os.path.join(args.out, "priors.json"), "w"))
    write_safetensors(os.path.join(args.out, "model.safetensors"), model.state())
    write_card(args, state, data_dir, name)


def reproduce_section(args, state, stats, name):
    return f"""## Reproduce
```
npm ci && (cd training && npm ci) && node training/build-corpus.mjs --vocab {stats['vocab']}
# on one GPU (PyTorch >= 2.0), both demo models side by side in 8 minutes:
bash training/gpu-train.sh 8
# or on a CPU (Debian: apt-get install python3-torch libopenblas0-pthread libtcmalloc-minimal4):
LD_PRELOAD=libtcmalloc_minimal.so.4 /usr/bin/python3 training/train.py --layers {args.layers} --out models/{name}
```
This model's own training runs, in order: {'; '.join(f"`{c}`" for c in state.get('commands', [state.get('command', '')]))}
Retraining does not reproduce the bytes across BLAS builds or GPUs; the committed weights are the reference.
"""


def write_card(args, state, data_dir, name):
    stats = json.load(open(os.path.join(data_dir, "corpus-stats.json")))
    ev = state.get("eval", {})
    fmt = lambda rows: "\n".join(f"| {l} | " + " | ".join(f"{v:.3f}" for v in row) + " |" for l, row in enumerate(rows))
    heads = len(ev.get("prev_token_scores", [[0]])[0])
    hdr = "| layer | " + " | ".join(f"H{h}" for h in range(heads)) + " |\n|---|" + "---|" * heads
    src = "\n".join(f"| {s['name']} | {s['kind']} | {s['licence']} | {s['gpt2Tokens']:,} |" for s in stats["sources"])
    card = f"""# {name}

Attention-only transformer in TransformerLens's architecture, trained by Head Lens for its bundled demo.
{args.layers} layer(s), d_model {args.d_model}, {args.heads} heads × d_head {args.d_head}, n_ctx {args.n_ctx},
LayerNorm, learned positional embedding, GPT-2 BPE with a trimmed vocabulary of {stats['vocab']} ids
(id 0 = `<|endoftext|>` as BOS, the {stats['vocab'] - 2} most frequent GPT-2 tokens of the corpus, id {stats['vocab'] - 1} = UNK;
map in `vocab.json`). Weights are fp16, unprocessed (Head Lens applies TransformerLens's processing on load).

## Training
- Tokens seen: {state.get('tokens', 0):,} ({state.get('step', 0):,} steps; this run's batches {args.batch} × {args.n_ctx}),
  half prose and half code per batch; a share of sequences carry a repeated span, some of those spans
  random tokens: {', then '.join(f"{h[1]:.0%} of sequences ({(h[2] if len(h) > 2 else 0.3):.0%} of spans random) from token {h[0]:,}" for h in state.get('repeat_rate_history', [[0, args.repeat_rate]]))}.
- AdamW, lr {args.lr} (warm-up {args.warmup} steps, cosine over {state.get('planned', f"{args.total_tokens:,.0f} planned tokens")}), seed {args.seed}.
- Wall time: {state.get('seconds', 0) / 3600:.2f} h on {state.get('hardware', 'a 2-core CPU (Debian python3-torch 1.13, OpenBLAS)')}.

## Corpus (GPT-2 tokens before trimming)
| source | kind | licence | tokens |
|---|---|---|---|
{src}

Train split: prose {stats['train_prose']['tokens']:,} tokens (UNK {stats['train_prose']['unkRate']:.2%}),
code {stats['train_code']['tokens']:,} (UNK {stats['train_code']['unkRate']:.2%}); every 50th document is held out.

## Results
- Validation loss: prose **{ev.get('val_loss_prose', float('nan')):.3f}** nats, code **{ev.get('val_loss_code', float('nan')):.3f}** nats.

Previous-token score (mean attention i → i−1 on random tokens):

{hdr}
{fmt(ev.get('prev_token_scores', []))}

Induction score (BOS + 50 random tokens repeated; mean attention from the second copy to the token after the first occurrence):

{hdr}
{fmt(ev.get('induction_scores', []))}

{reproduce_section(args, state, stats, name)}"""
    open(os.path.join(args.out, "MODEL_CARD.md"), "w").write(card)


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    # Subnormal floats (tiny attention weights and their gradients) make CPU matmuls several times slower;
    # flushing them to zero changes no result that matters and makes a 2-thread CPU step ≈ 1.5× faster.
    torch.set_flush_denormal(True)
    name = args.name or os.path.basename(os.path.normpath(args.out))
    run = args.run or os.path.join(HERE, "runs", name)
    os.makedirs(run, exist_ok=True)
    ckpt_path = os.path.join(run, "ckpt.pt")
    if args.fresh and os.path.exists(ckpt_path):
        os.remove(ckpt_path)
    vocab = json.load(open(os.path.join(args.data, "vocab.json")))
    V, bos = len(vocab["gpt2Ids"]), vocab["bos"]
    torch.manual_seed(args.seed)
    model = AttnOnly(V, args.d_model, args.heads, args.d_head, args.n_ctx, args.layers).to(args.device)
    decay = [v for k, v in model.p.items() if k.split(".")[-1].startswith("W_")]
    no_decay = [v for k, v in model.p.items() if not k.split(".")[-1].startswith("W_")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98))
    state = {"step": 0, "tokens": 0, "seconds": 0.0}
    resumed = os.path.exists(ckpt_path)
    if resumed:
        ck = torch.load(ckpt_path, map_location=args.device)
        model.p.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        state = ck["state"]
        print(f"resumed at step {state['step']} ({state['tokens']:,} tokens)", flush=True)
    if args.init_from and state["step"] == 0:
        for k, t in read_safetensors(os.path.join(args.init_from, "model.safetensors")).items():
            model.p[k].data.copy_(t)
        log_path = os.path.normpath(args.init_from) + ".train.log"
        if not os.path.exists(log_path):
            log_path = os.path.join(HERE, "logs", f"{name}.train.log")
        last = [json.loads(l) for l in open(log_path)][-1]
        state.update(step=last["step"], tokens=last["tokens"], seconds=last.get("seconds", 0.0),
                     repeat_rate_history=last.get("repeat_rate_history", []))
        print(f"continuing from {args.init_from} at step {state['step']} ({state['tokens']:,} tokens)", flush=True)
    data = load_data(args.data, args.device)
    if args.export_only:  # the card describes the training runs, not this one
        state["eval"] = evaluate(model, data, bos)
        export(model, args, state, args.data, name)
        return
    # Data-mix changes and every run's command line are recorded for the model card.
    history = state.setdefault("repeat_rate_history", [])
    mix = [args.repeat_rate, args.random_share]
    if not history:
        history.append([0] + mix)  # runs from before the history was kept used one mix
    elif history[-1][1:] != mix and (len(history[-1]) > 2 or mix != [history[-1][1], 0.3]):
        history.append([state["tokens"]] + mix)
    cuda = args.device.startswith("cuda")
    state["hardware"] = (f"one {torch.cuda.get_device_name()} (PyTorch {torch.__version__}, bf16 autocast)" if cuda
                         else f"a {args.threads}-thread CPU (PyTorch {torch.__version__})")
    command = "python3 training/" + " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:])
    state.setdefault("commands", [state["command"]] if state.get("command") else []).append(command)
    state["command"] = command
    gen = torch.Generator(device=args.device).manual_seed(args.seed + state["step"])
    if cuda:
        torch.backends.cuda.matmul.allow_tf32 = True
    log = open(os.path.join(run, "train.log"), "a")
    tok_per_step = args.batch * args.n_ctx
    total_steps = int(args.total_tokens / tok_per_step)
    t_start, t_ckpt, t_last = time.time(), time.time(), time.time()
    seconds0, step0 = state["seconds"], state["step"]
    # The LR schedule (warm-up, cosine over --total-tokens) starts where the run starts: step 0, or the exported
    # model's step with --init-from; a resumed run continues it (resumes before this key was kept restarted it).
    sched0 = state.setdefault("schedule_start", 0 if resumed else step0)
    ema = None
    snap_at = set(snapshot_steps(args, tok_per_step)) if args.snapshot_dir else set()
    if snap_at:
        os.makedirs(args.snapshot_dir, exist_ok=True)
    stop_steps = min(total_steps, int(args.stop_tokens / tok_per_step)) if args.stop_tokens else total_steps
    while state["step"] < stop_steps:
        step = state["step"]
        # Schedule progress: by steps, or by wall time when a time budget ends the run sooner.
        progress = (step - sched0) / (total_steps - sched0)
        if args.time_budget_minutes:
            progress = max(progress, (time.time() - t_start) / (60 * args.time_budget_minutes))
            state["planned"] = f"{args.time_budget_minutes:g} minutes of wall time"
        lr = args.lr * min(1.0, (step - sched0 + 1) / args.warmup) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))
        for g in opt.param_groups:
            g["lr"] = lr
        x = batch(gen, (data["train_prose"], data["train_code"]), args.batch, args.n_ctx, bos, args.repeat_rate, V - 1,
                  args.random_share)
        if cuda:
            with torch.autocast("cuda", dtype=torch.bfloat16):
                logits = model(x)
        else:
            logits = model(x)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, V).float(), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        state["step"] += 1
        state["tokens"] += tok_per_step
        now = time.time()
        state["seconds"] = seconds0 + now - t_start
        if state["step"] % 50 == 0:  # .item() syncs with the GPU: only every 50 steps
            ema = loss.item() if ema is None else 0.5 * ema + 0.5 * loss.item()
            rate = 50 * tok_per_step / (now - t_last)
            t_last = now
            log.write(json.dumps({"step": state["step"], "tokens": state["tokens"], "loss": round(ema, 4),
                                  "lr": lr, "tok_per_s": round(rate)}) + "\n")
            log.flush()
        if state["step"] in snap_at:
            write_safetensors(os.path.join(args.snapshot_dir, f"{name}_{state['tokens']}.safetensors"), model.state(),
                              torch.float32)
            ev = evaluate(model, data, bos)
            log.write(json.dumps({"step": state["step"], "tokens": state["tokens"], "seconds": state["seconds"],
                                  "snapshot": True, "eval": ev}) + "\n")
            log.flush()
            print(f"snapshot {state['tokens']:,} tokens: prev {[round(v, 2) for v in ev['prev_token_scores'][0]]} "
                  f"induction {[round(v, 2) for v in ev['induction_scores'][-1]]}", flush=True)
        done = (state["step"] >= stop_steps or (now - t_start) / 60 >= args.max_minutes
                or (args.time_budget_minutes is not None and now - t_start >= 60 * args.time_budget_minutes))
        if now - t_ckpt >= args.ckpt_minutes * 60 or done:
            state["eval"] = evaluate(model, data, bos)
            log.write(json.dumps({"step": state["step"], "tokens": state["tokens"], "seconds": state["seconds"],
                                  "repeat_rate_history": state["repeat_rate_history"], "eval": state["eval"]}) + "\n")
            log.flush()
            tmp = ckpt_path + ".tmp"
            torch.save({"model": model.p.state_dict(), "opt": opt.state_dict(), "state": state}, tmp)
            os.replace(tmp, ckpt_path)
            export(model, args, state, args.data, name)
            t_ckpt = time.time()
            print(f"step {state['step']} loss {ema or float('nan'):.3f} tok/s {(state['step'] - step0) * tok_per_step / max(1e-9, time.time() - t_start):.0f} eval {json.dumps(state['eval'])}", flush=True)
            if done:
                break


if __name__ == "__main__":
    main()
