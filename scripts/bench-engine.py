#!/usr/bin/env python3
"""make bench-engine: the same generation through the Swift engine and through the package's Python API.

Both sides use the same libstable-diffusion.so build, the same model and identical parameters (every
one set explicitly: the Python wrapper's defaults differ from the C ones, e.g. eta 0 vs INFINITY).
Each side loads the model once and is warmed up once; then the two alternate, ROUNDS times, in one
run. Wall time per generation is measured by each side around its own call (Swift: around
StableDiffusionEngine.generate in `ai-worker generate --serve`; Python: around generate_image).
The pixels of both sides are compared too: equal hashes mean the two did exactly the same work.

Usage: bench-engine.py AI_WORKER_BINARY SHIM_LIBRARY PIP_DIR MODEL [--rounds N] [--size W] [--steps N] [--threads N]
"""
import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("binary")
ap.add_argument("library")
ap.add_argument("pipdir")
ap.add_argument("model")
ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "8")))
ap.add_argument("--size", type=int, default=int(os.environ.get("SIZE", "128")))
ap.add_argument("--steps", type=int, default=int(os.environ.get("STEPS", "4")))
ap.add_argument("--threads", type=int, default=int(os.environ.get("THREADS", "2")))
args = ap.parse_args()

sys.path.insert(0, args.pipdir)
from stable_diffusion_cpp import StableDiffusion  # noqa: E402

params = dict(prompt="a lighthouse at dusk, oil painting", negative_prompt="blurry", width=args.size, height=args.size,
              steps=args.steps, cfg=7.0, sampler="euler_a", scheduler="discrete", seed=42)

swift = subprocess.Popen(
    [args.binary, "generate", "--serve", "--library", args.library, "--model-file", args.model,
     "--prompt", params["prompt"], "--negative-prompt", params["negative_prompt"],
     "--width", str(args.size), "--height", str(args.size), "--steps", str(args.steps), "--cfg-scale", "7",
     "--sampler", params["sampler"], "--scheduler", params["scheduler"], "--seed", "42", "--threads", str(args.threads)],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def run_swift():
    swift.stdin.write("go\n")
    swift.stdin.flush()
    line = swift.stdout.readline()
    if not line:
        sys.exit("bench-engine: the Swift side stopped (see its stderr above)")
    result = json.loads(line)
    return result["seconds"], result["sha256"]


sd = StableDiffusion(model_path=args.model, vae_decode_only=True, n_threads=args.threads, rng_type="cuda",
                     lora_apply_mode="at_runtime", verbose=False)


def run_python():
    start = time.perf_counter()
    images = sd.generate_image(prompt=params["prompt"], negative_prompt=params["negative_prompt"], width=args.size,
                               height=args.size, cfg_scale=7.0, sample_method=params["sampler"],
                               scheduler=params["scheduler"], sample_steps=args.steps, eta=float("inf"), seed=42,
                               batch_count=1)
    seconds = time.perf_counter() - start
    return seconds, hashlib.sha256(images[0].convert("RGB").tobytes()).hexdigest()


print(f"bench-engine: {args.size}x{args.size}, {args.steps} steps, euler_a/discrete, {args.threads} threads, "
      f"{args.rounds} alternating rounds after one warm-up each")
run_swift()
run_python()
swift_times, python_times, hashes = [], [], set()
for round_ in range(args.rounds):
    order = [("swift", run_swift), ("python", run_python)]
    if round_ % 2:
        order.reverse()  # neither side always runs first
    for name, fn in order:
        seconds, digest = fn()
        (swift_times if name == "swift" else python_times).append(seconds)
        hashes.add((name, digest))
# Each round's two runs are neighbours in time, so their ratio is the least disturbed by the load of
# a shared machine drifting over the run; the median of those ratios is the result.
pair_ratios = [s / p for s, p in zip(swift_times, python_times)]
swift.stdin.close()
swift.wait(timeout=30)

same = len({d for _, d in hashes}) == 1
ms = lambda xs: f"{statistics.median(xs) * 1000:8.1f} ms (min {min(xs) * 1000:.1f}, max {max(xs) * 1000:.1f})"
ratio = statistics.median(pair_ratios)
print(f"  swift engine   median {ms(swift_times)}")
print(f"  python API     median {ms(python_times)}")
print(f"  per-round ratios: {' '.join(f'{r:.3f}' for r in pair_ratios)}")
print(f"  ratio of the medians: {statistics.median(swift_times) / statistics.median(python_times):.3f}")
print(f"  identical pixels on both sides: {'yes' if same else 'NO'}")
print(f"bench-engine: swift/python wall-time ratio (median of per-round ratios) = {ratio:.3f} (goal <= 1.02)")
sys.exit(0 if same else 1)
