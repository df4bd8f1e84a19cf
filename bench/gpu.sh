#!/usr/bin/env bash
# The GPU benchmark, run on the device machine (one H100) in one call:
#   run: bash bench/gpu.sh   with carry [".carry", ".gl", "dist", "out"]
# Head Lens's whole-model analysis (2 layers × 8 heads, V = 48 262, d_head 64), dense and pruned, on
# the webgpu execution provider (Dawn → Vulkan) and on cuda installed the way a user gets it
# (--install-cuda: the pinned-manifest download, checksum, install into the cache; served here from
# a local folder, the device has no internet), against a PyTorch CUDA peer on the same processed
# weights, and the machine's 16-core CPU for reference; then the same on a trained-like model.
# Carried, never committed: .carry = the node binary (xz) and a trimmed onnxruntime-node,
# .gl = Debian's libvulkan1 .deb (the Vulkan loader; the NVIDIA ICD comes with the driver),
# .carry/cuda/*.nupkg = Microsoft.ML.OnnxRuntime.Gpu.Linux of onnxruntime-node's version (optional:
# without it the package is rebuilt from the machine's Python onnxruntime-gpu libraries, if any).
# Everything printed is also in $OUT/gpu.log: copy it to bench/results/gpu-<card>-cuda.log.
set -u
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
exec > >(tee "$OUT/gpu.log") 2>&1
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
step "CUDA provider, served from a local folder (the user's download path: manifest, sha256, install)"
python3 -c "import onnxruntime as o; print('python onnxruntime', o.__version__, o.get_available_providers())" 2>&1 | tail -1
ORT_VERSION=$($T/node -p 'require("onnxruntime-node/package.json").version')
mkdir -p $T/feed $T/cache
NUPKG=$(ls .carry/cuda/*.nupkg 2>/dev/null | head -1)
if [ -n "$NUPKG" ]; then cp "$NUPKG" $T/feed/package.nupkg
else # the same two libraries under the NuGet package's paths, from the Python wheel of the same version
  python3 - "$ORT_VERSION" $T/feed/package.nupkg <<'PY'
import onnxruntime, os, sys, zipfile
capi = os.path.join(os.path.dirname(onnxruntime.__file__), "capi")
if onnxruntime.__version__ != sys.argv[1]: sys.exit(f"python onnxruntime {onnxruntime.__version__} is not {sys.argv[1]}: no CUDA package")
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
    for lib in ("libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so"):
        z.write(os.path.join(capi, lib), f"runtimes/linux-x64/native/{lib}")
PY
fi
ls -la $T/feed
(cd $T/feed && exec python3 -m http.server 8765 --bind 127.0.0.1 > /dev/null 2>&1) & FEED=$!
sleep 1
python3 - "$ORT_VERSION" $T/feed/package.nupkg > $T/manifest.json <<'PY'
import hashlib, json, os, sys
p = sys.argv[2]
print(json.dumps({"ortVersion": sys.argv[1], "platforms": {"linux-x64": {"url": "http://127.0.0.1:8765/package.nupkg",
  "sha256": hashlib.sha256(open(p, "rb").read()).hexdigest() if os.path.exists(p) else "", "size": os.path.getsize(p) if os.path.exists(p) else 0,
  "files": {l: f"runtimes/linux-x64/native/{l}" for l in ("libonnxruntime_providers_shared.so", "libonnxruntime_providers_cuda.so")}}}}))
PY
export HEAD_LENS_CUDA_MANIFEST=$T/manifest.json XDG_CACHE_HOME=$T/cache
ldconfig -p | grep -E "libcudnn\.so|libcublasLt\.so|libcudart\.so" | head -5
step "model (random, real size)"
$T/node out/bench/realSizeModel.js $T/m "${LAYERS:-2}"
cli() { # name, args…: the whole command's wall time and peak RSS, the analysis time, the EP log
  local name=$1; shift
  step "$name: head-lens $*"
  /usr/bin/time -v $T/node dist/cli.js "$@" > "$OUT/$name.json" 2> $T/$name.err; echo "exit $?"
  grep -E "head-lens: (analyzed|execution provider|warning|CUDA|downloading)|Elapsed \(wall|Maximum resident" $T/$name.err
  grep -E "^head-lens: [^ae]" $T/$name.err | head -3
}
cli webgpu analyze --model $T/m/model --all --json --ep webgpu --block-mb 1024 --strategy dense --priors uniform
cli webgpu-again analyze --model $T/m/model --all --json --ep webgpu --block-mb 1024 --strategy dense --priors uniform
cli webgpu-64mb analyze --model $T/m/model --all --json --ep webgpu --block-mb 64 --strategy dense --priors uniform
# The first cuda run installs (download + verify + copy); its wall time includes that, the second's does not.
cli cuda-install analyze --model $T/m/model --layer 0 --head 0 --json --ep cuda --install-cuda --priors uniform
cli cuda analyze --model $T/m/model --all --json --ep cuda --block-mb 1024 --strategy dense --priors uniform
cli cuda-again analyze --model $T/m/model --all --json --ep cuda --block-mb 1024 --strategy dense --priors uniform
cli cuda-pruned analyze --model $T/m/model --all --json --ep cuda --block-mb 1024 --strategy pruned --priors uniform
[ -n "${WITH_CPU:-}" ] && cli cpu16 analyze --model $T/m/model --all --json --ep cpu --priors uniform
cli webgpu-pruned analyze --model $T/m/model --all --json --ep webgpu --block-mb 1024 --strategy pruned --priors uniform
step "model (trained-like, real size)"
$T/node out/bench/realSizeModel.js $T/tl "${LAYERS:-2}" trained-like
cli tl-cpu16 analyze --model $T/tl/model --all --json --ep cpu --priors uniform
cli tl-webgpu-dense analyze --model $T/tl/model --all --json --ep webgpu --block-mb 1024 --strategy dense --priors uniform
cli tl-webgpu-pruned analyze --model $T/tl/model --all --json --ep webgpu --block-mb 1024 --strategy pruned --priors uniform
cli tl-cuda-dense analyze --model $T/tl/model --all --json --ep cuda --block-mb 1024 --strategy dense --priors uniform
cli tl-cuda-pruned analyze --model $T/tl/model --all --json --ep cuda --block-mb 1024 --strategy pruned --priors uniform
step "torch CUDA peer (float32, no TF32)"
python3 bench/torch_peer.py $T/m/processed.safetensors 0 3 > "$OUT/torch.json"; echo "exit $?"
python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
t = json.load(open(f"{out}/torch.json"))
print("torch", t["device"], "whole model s:", ["%.3f" % x for x in t["seconds_whole_model"]])
for name in ("webgpu", "webgpu-again", "webgpu-64mb", "cuda", "cuda-again", "cuda-pruned", "cpu16", "webgpu-pruned"):
    p = f"{out}/{name}.json"
    if not os.path.exists(p) or not os.path.getsize(p):
        print(name, "no output"); continue
    j = json.load(open(p))
    ours = [[k["id"] for k in h["keys"]] for h in j["heads"]]
    print(name, "ep", j["ep"], "keys identical to torch on", sum(a == b for a, b in zip(ours, t["keys"])), "of", len(ours), "heads")
keys = lambda p: [[k["id"] for k in h["keys"]] for h in json.load(open(p))["heads"]] if os.path.exists(p) and os.path.getsize(p) else None
ref = keys(f"{out}/tl-cpu16.json")
for name in ("tl-webgpu-dense", "tl-webgpu-pruned", "tl-cuda-dense", "tl-cuda-pruned"):
    got = keys(f"{out}/{name}.json")
    print(name, "no output" if got is None or ref is None else f"keys identical to the CPU on {sum(a == b for a, b in zip(got, ref))} of {len(got)} heads")
PY
cli metrics-webgpu metrics --model $T/m/model --json --ep webgpu
cli path-webgpu analyze --model $T/m/model --layer 1 --head 0 --via 0.3:k --json --ep webgpu --block-mb 1024 --priors uniform
kill $FEED 2>/dev/null
ls -la "$OUT"
