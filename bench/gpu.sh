#!/usr/bin/env bash
# The GPU benchmark, run on the device machine (one H100) in one call:
#   run: bash bench/gpu.sh   with carry [".carry", ".gl", "dist", "out"]
# Head Lens's whole-model analysis (2 layers × 8 heads, V = 48 262, d_head 64) on the webgpu
# execution provider (Dawn → Vulkan) — and cuda if the runtime offers it — against a PyTorch CUDA
# peer on the same processed weights, and the machine's 16-core CPU for reference; then the pruned
# strategy on webgpu (what `auto` does not run there yet) on that model and on a trained-like one.
# Carried, never committed: .carry = the node binary (xz) and a trimmed onnxruntime-node,
# .gl = Debian's libvulkan1 .deb (the Vulkan loader; the NVIDIA ICD comes with the driver).
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
T=/tmp/hl; mkdir -p $T
step() { echo; echo "== $*  ($(date +%T))"; }
xz -dc .carry/node.xz > $T/node && chmod +x $T/node
mkdir -p node_modules && cp -r .carry/ort/node_modules/* node_modules/
xz -dc .carry/ort/libonnxruntime.so.1.xz > node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
[ -e $ICD ] || ICD=$(ls /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json 2>/dev/null | head -1)
export VK_DRIVER_FILES=$ICD VK_ICD_FILENAMES=$ICD HEAD_LENS_VERBOSE=1
probe() { $T/node -e 'require("onnxruntime-node").InferenceSession.create(Buffer.alloc(0), { executionProviders: ["webgpu"] }).catch((e) => console.log(/adapter/i.test(e.message) ? "webgpu: no adapter" : "webgpu: adapter found"))'; }
# The NVIDIA ICD in libGLX_nvidia needs GLVND (carried in .gl); headless, its EGL twin can serve instead.
if probe | grep -q "no adapter"; then
  echo '{"file_format_version":"1.0.1","ICD":{"library_path":"libEGL_nvidia.so.0","api_version":"1.4.312"}}' > $T/nvidia_egl_icd.json
  export VK_DRIVER_FILES=$T/nvidia_egl_icd.json VK_ICD_FILENAMES=$T/nvidia_egl_icd.json
fi
probe
step machine
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader; nproc; echo "ICD: $ICD"
ldconfig -p | grep -i libvulkan; ls -la /usr/local/nvidia/share/vulkan/icd.d/ 2>&1 | head -3
$T/node -e 'console.log(JSON.stringify(require("onnxruntime-node").listSupportedBackends()))'
# onnxruntime-node downloads its CUDA provider at install time (NuGet, unreachable here); the
# machine's Python onnxruntime of the same version may carry one: use it if it does.
python3 -c "import onnxruntime as o; print('python onnxruntime', o.__version__, o.get_available_providers())" 2>&1 | tail -1
CUDA_EP=$(python3 -c "import onnxruntime, os; print(os.path.dirname(onnxruntime.__file__))" 2>/dev/null)/capi
ls $CUDA_EP/libonnxruntime_providers_{cuda,shared}.so 2>/dev/null && cp $CUDA_EP/libonnxruntime_providers_{cuda,shared}.so node_modules/onnxruntime-node/bin/napi-v6/linux/x64/
step "model (random, real size)"
$T/node out/bench/realSizeModel.js $T/m "${LAYERS:-2}"
cli() { # name, args…: the whole command's wall time and peak RSS, the analysis time, the EP log
  local name=$1; shift
  step "$name: head-lens $*"
  /usr/bin/time -v $T/node dist/cli.js "$@" > "$OUT/$name.json" 2> $T/$name.err; echo "exit $?"
  grep -E "head-lens: (analyzed|execution provider)|Elapsed \(wall|Maximum resident" $T/$name.err
  grep -E "^head-lens: [^ae]" $T/$name.err | head -3
}
cli webgpu analyze --model $T/m/model --all --json --ep webgpu --block-mb 1024 --strategy dense --priors uniform
cli webgpu-again analyze --model $T/m/model --all --json --ep webgpu --block-mb 1024 --strategy dense --priors uniform
cli webgpu-64mb analyze --model $T/m/model --all --json --ep webgpu --block-mb 64 --strategy dense --priors uniform
cli cuda analyze --model $T/m/model --all --json --ep cuda --block-mb 1024 --strategy dense --priors uniform
[ -n "${WITH_CPU:-}" ] && cli cpu16 analyze --model $T/m/model --all --json --ep cpu --priors uniform
cli webgpu-pruned analyze --model $T/m/model --all --json --ep webgpu --block-mb 1024 --strategy pruned --priors uniform
step "model (trained-like, real size)"
$T/node out/bench/realSizeModel.js $T/tl "${LAYERS:-2}" trained-like
cli tl-cpu16 analyze --model $T/tl/model --all --json --ep cpu --priors uniform
cli tl-webgpu-dense analyze --model $T/tl/model --all --json --ep webgpu --block-mb 1024 --strategy dense --priors uniform
cli tl-webgpu-pruned analyze --model $T/tl/model --all --json --ep webgpu --block-mb 1024 --strategy pruned --priors uniform
step "torch CUDA peer (float32, no TF32)"
python3 bench/torch_peer.py $T/m/processed.safetensors 0 3 > "$OUT/torch.json"; echo "exit $?"
python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
t = json.load(open(f"{out}/torch.json"))
print("torch", t["device"], "whole model s:", ["%.3f" % x for x in t["seconds_whole_model"]])
for name in ("webgpu", "webgpu-again", "webgpu-64mb", "cuda", "cpu16", "webgpu-pruned"):
    p = f"{out}/{name}.json"
    if not os.path.exists(p) or not os.path.getsize(p):
        print(name, "no output"); continue
    j = json.load(open(p))
    ours = [[k["id"] for k in h["keys"]] for h in j["heads"]]
    print(name, "ep", j["ep"], "keys identical to torch on", sum(a == b for a, b in zip(ours, t["keys"])), "of", len(ours), "heads")
keys = lambda p: [[k["id"] for k in h["keys"]] for h in json.load(open(p))["heads"]] if os.path.exists(p) and os.path.getsize(p) else None
ref = keys(f"{out}/tl-cpu16.json")
for name in ("tl-webgpu-dense", "tl-webgpu-pruned"):
    got = keys(f"{out}/{name}.json")
    print(name, "no output" if got is None or ref is None else f"keys identical to the CPU on {sum(a == b for a, b in zip(got, ref))} of {len(got)} heads")
PY
cli metrics-webgpu metrics --model $T/m/model --json --ep webgpu
cli path-webgpu analyze --model $T/m/model --layer 1 --head 0 --via 0.3:k --json --ep webgpu --block-mb 1024 --priors uniform
ls -la "$OUT"
