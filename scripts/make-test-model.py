#!/usr/bin/env python3
"""Write a tiny random-weight test model (and a tiny random LoRA) for stable-diffusion.cpp.

Usage:  python3 scripts/make-test-model.py OUTDIR [--seed N] [--with-controlnet] [--with-sdxl]

Produces:
  OUTDIR/model.ckpt        an SD1.x-family checkpoint in the SDXS-512-DS layout (CLIP ViT-L/14 text
                           encoder + tiny UNet without a middle block + TAESD decoder and encoder,
                           the encoder for img2img and inpainting), random
                           weights, in the PyTorch zip ("torch.save") format with DEFLATE-compressed
                           storages: 440 M parameters (840 MB of f16 once loaded) in a 2 MB file.
                           Tensors of the same shape share one storage, and each storage is a random
                           pattern of a prime length (1021) tiled over the tensor, which DEFLATE
                           compresses about 200x. stable-diffusion.cpp reports "Version: SDXS (512-DS)".
  OUTDIR/lora.safetensors  a rank-4 LoRA (1.4 MB) with random weights on the UNet attention/FF and
                           the last CLIP layer (canonical "<tensor>.lora_down.weight", ".lora_up.weight",
                           ".alpha" names, which the loader maps to "lora.<tensor>.weight.lora_down").
  OUTDIR/esrgan-x2.safetensors, esrgan-x4.safetensors
                           RealESRGAN upscalers (RRDBNet with one block), x2 and x4, 2 MB each.
  with --with-controlnet, also:
  OUTDIR/model-sd1.ckpt    the full SD1.x layout (UNet with middle block + KL-VAE decoder), 1.03 G
                           parameters in a 2.3 MB file: the tiny UNet above cannot take a ControlNet.
  OUTDIR/controlnet.ckpt   an SD1 ControlNet (361 M parameters) in a 0.8 MB file.
  with --with-sdxl, also:
  OUTDIR/model-sdxl.ckpt   the smallest SDXL-family layout stable-diffusion.cpp 0.4.7 detects,
                           "SDXL (Vega)" (VERSION_SDXL_VEGA: no middle_block.1, no
                           output_blocks.3.1.transformer_blocks.1), with SDXL checkpoint names:
                           conditioner.embedders.0 (CLIP ViT-L/14, HF names), conditioner.embedders.1
                           (OpenCLIP ViT-bigG/14, open_clip names with fused attn.in_proj_weight and
                           text_projection), model.diffusion_model (SDXL UNet: label_emb for the
                           2816-wide pooled+size vector, linear proj_in/proj_out, context 2048,
                           transformer depths 1/1/2, middle_block.0 only) and first_stage_model (the
                           SDXL KL-VAE, decoder and encoder): 1397 tensors, 1.65 G parameters
                           (3.1 GB of f16 once loaded) in a 3.2 MB file. Loads with zero unknown and
                           zero missing tensors, decode-only or with the encoder.
  OUTDIR/lora-sdxl.safetensors
                           a rank-4 SDXL LoRA (2.6 MB): the UNet's first transformer block of every
                           attention layer and CLIP-L layer 10 (SDXL conditions on the penultimate
                           CLIP layer, clip_skip 2, so layer 11 would change nothing).

model.ckpt loads with vae_decode_only=false too (its TAE encoder turns init images into latents);
model-sd1.ckpt holds no VAE encoder and loads decode-only. Images are noise, never art.

Dependencies: Python >= 3.9 and numpy (pip install numpy). No torch: the torch pickle is written
with stand-in classes. The output is deterministic for a given --seed.

Every name and shape was checked against the parameter tensors that stable-diffusion.cpp itself
creates for VERSION_SDXS_512_DS, VERSION_SD1 and its SD1 ControlNet (543, 1022 and 340 tensors); the
SDXL model against the library's loader (no "unknown tensor", no "not in model file", reported
version "SDXL (Vega)", 3146 MB of params).

Why not smaller: stable-diffusion.cpp 0.4.7 (the version vendored by stable-diffusion-cpp-python
0.4.7) hard-codes every channel count (UNet model_channels 320, CLIP hidden 768 x 12 layers,
vocab 49408; bigG 1280 x 32 layers), so the parameter count cannot shrink below the smallest variant
it recognises. For SDXL the two text encoders (818 M parameters, both run for every prompt, bigG
twice: hidden states and pooled vector) cost more time per image than the 1-step UNet.
"""
import argparse
import collections
import io
import json
import os
import pickle
import struct
import sys
import types
import zipfile

import numpy as np

# --------------------------------------------------------------------------------------------
# Architecture (mirrors stable-diffusion.cpp 0.4.7: src/clip.hpp, src/unet.hpp, src/tae.hpp for
# VERSION_SDXS_512_DS). Shapes are PyTorch order ([out, in, kh, kw] for convs, [out, in] for
# linears). kind: "w" random weight, "b" bias (zeros), "one" norm scale (ones), "zero" norm shift.
# --------------------------------------------------------------------------------------------


def clip_text_tensors(p="cond_stage_model.transformer.text_model."):
    t = [(p + "embeddings.token_embedding.weight", (49408, 768), "emb"),
         (p + "embeddings.position_embedding.weight", (77, 768), "emb")]
    for i in range(12):
        q = f"{p}encoder.layers.{i}."
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            t += [(q + f"self_attn.{proj}.weight", (768, 768), "w"), (q + f"self_attn.{proj}.bias", (768,), "b")]
        for ln in ("layer_norm1", "layer_norm2"):
            t += [(q + f"{ln}.weight", (768,), "one"), (q + f"{ln}.bias", (768,), "zero")]
        t += [(q + "mlp.fc1.weight", (3072, 768), "w"), (q + "mlp.fc1.bias", (3072,), "b"),
              (q + "mlp.fc2.weight", (768, 3072), "w"), (q + "mlp.fc2.bias", (768,), "b")]
    t += [(p + "final_layer_norm.weight", (768,), "one"), (p + "final_layer_norm.bias", (768,), "zero")]
    return t


def unet_tensors(variant="sdxs", prefix="model.diffusion_model.", controlnet=False):
    """UNet of unet.hpp (or, with controlnet=True, the ControlNet of control.hpp, SD1 only)."""
    p = prefix
    mc, temb, ctx = 320, 1280, 768
    depth, linear_proj, xl = [1, 1, 1, 1], False, False
    if variant == "sdxs":  # VERSION_SDXS_512_DS: tiny_unet, no middle block
        channel_mult, attention_resolutions, num_res_blocks, tiny = [1, 2, 4], [4, 2], 1, True
    elif variant == "vega":  # VERSION_SDXL_VEGA: SDXL UNet, transformer depths 1/1/2, middle block 0 only
        channel_mult, attention_resolutions, num_res_blocks, tiny = [1, 2, 4], [4, 2], 2, False
        depth, linear_proj, xl, ctx = [1, 1, 2], True, True, 2048
    else:  # VERSION_SD1
        channel_mult, attention_resolutions, num_res_blocks, tiny = [1, 2, 4, 4], [4, 2, 1], 2, False
    t = []

    def conv(name, cout, cin, k=3, bias=True):
        t.append((p + name + ".weight", (cout, cin, k, k), "w"))
        if bias:
            t.append((p + name + ".bias", (cout,), "b"))

    def linear(name, cout, cin, bias=True):
        t.append((p + name + ".weight", (cout, cin), "w"))
        if bias:
            t.append((p + name + ".bias", (cout,), "b"))

    def norm(name, c):
        t.extend([(p + name + ".weight", (c,), "one"), (p + name + ".bias", (c,), "zero")])

    def resblock(name, cin, cout):
        norm(name + ".in_layers.0", cin)
        conv(name + ".in_layers.2", cout, cin)
        linear(name + ".emb_layers.1", cout, temb)
        norm(name + ".out_layers.0", cout)
        conv(name + ".out_layers.3", cout, cout)
        if cin != cout:
            conv(name + ".skip_connection", cout, cin, k=1)

    def transformer(name, c, n_blocks=1):
        norm(name + ".norm", c)
        (linear if linear_proj else conv)(name + ".proj_in", c, c, *(() if linear_proj else (1,)))
        for k in range(n_blocks):
            b = f"{name}.transformer_blocks.{k}"
            for a, kv in (("attn1", c), ("attn2", ctx)):
                linear(f"{b}.{a}.to_q", c, c, bias=False)
                linear(f"{b}.{a}.to_k", c, kv, bias=False)
                linear(f"{b}.{a}.to_v", c, kv, bias=False)
                linear(f"{b}.{a}.to_out.0", c, c)
            linear(b + ".ff.net.0.proj", 8 * c, c)  # GEGLU: 2 x (4 * c)
            linear(b + ".ff.net.2", c, 4 * c)
            for n in ("norm1", "norm2", "norm3"):
                norm(f"{b}.{n}", c)
        (linear if linear_proj else conv)(name + ".proj_out", c, c, *(() if linear_proj else (1,)))

    linear("time_embed.0", temb, mc)
    linear("time_embed.2", temb, temb)
    if xl:  # the pooled bigG embedding + size conditioning (2816 = 1280 + 6 x 256)
        linear("label_emb.0.0", temb, 2816)
        linear("label_emb.0.2", temb, temb)
    if controlnet:
        hint = [(3, 16), (16, 16), (16, 32), (32, 32), (32, 96), (96, 96), (96, 256), (256, mc)]
        for i, (cin, cout) in enumerate(hint):
            conv(f"input_hint_block.{2 * i}", cout, cin)
    conv("input_blocks.0.0", mc, 4)
    chans, ch, idx, ds = [mc], mc, 0, 1
    for i, mult in enumerate(channel_mult):
        for _ in range(num_res_blocks):
            idx += 1
            resblock(f"input_blocks.{idx}.0", ch, mult * mc)
            ch = mult * mc
            if ds in attention_resolutions:
                transformer(f"input_blocks.{idx}.1", ch, depth[i])
            chans.append(ch)
            if tiny:
                idx += 1  # quirk of unet.hpp for tiny UNets
        if i != len(channel_mult) - 1:
            idx += 1
            conv(f"input_blocks.{idx}.0.op", ch, ch)
            chans.append(ch)
            ds *= 2
    if not tiny:
        resblock("middle_block.0", ch, ch)
        if variant != "vega":
            transformer("middle_block.1", ch)
            resblock("middle_block.2", ch, ch)
    if controlnet:
        for i, c in enumerate(chans):
            conv(f"zero_convs.{i}.0", c, c, k=1)
        conv("middle_block_out.0", ch, ch, k=1)
        return t
    out_idx = 0
    for i in reversed(range(len(channel_mult))):
        mult = channel_mult[i]
        for j in range(num_res_blocks + 1):
            ich = chans.pop()
            resblock(f"output_blocks.{out_idx}.0", ch + ich, mult * mc)
            ch = mult * mc
            up = 1
            if ds in attention_resolutions:
                transformer(f"output_blocks.{out_idx}.1", ch, depth[i])
                up += 1
            if i > 0 and j == num_res_blocks:
                if tiny:
                    out_idx += 1  # quirk of unet.hpp for tiny UNets
                    if out_idx == 2:
                        up = 1
                conv(f"output_blocks.{out_idx}.{up}.conv", ch, ch)
                ds //= 2
            out_idx += 1
    norm("out.0", mc)
    conv("out.2", 4, mc)
    return t


def open_clip_bigg_tensors(p="conditioner.embedders.1.model."):
    """OpenCLIP ViT-bigG/14 text tower as SDXL checkpoints store it (open_clip names, fused q/k/v
    "attn.in_proj_weight"): the loader renames it to cond_stage_model.1.transformer.text_model.*
    (clip.hpp OPEN_CLIP_VIT_BIGG_14: hidden 1280, 32 layers, MLP 5120, text_projection 1280x1280)."""
    d, ff = 1280, 5120
    t = [(p + "token_embedding.weight", (49408, d), "emb"), (p + "positional_embedding", (77, d), "emb")]
    for i in range(32):
        q = f"{p}transformer.resblocks.{i}."
        t += [(q + "attn.in_proj_weight", (3 * d, d), "w"), (q + "attn.in_proj_bias", (3 * d,), "b"),
              (q + "attn.out_proj.weight", (d, d), "w"), (q + "attn.out_proj.bias", (d,), "b")]
        for ln in ("ln_1", "ln_2"):
            t += [(q + f"{ln}.weight", (d,), "one"), (q + f"{ln}.bias", (d,), "zero")]
        t += [(q + "mlp.c_fc.weight", (ff, d), "w"), (q + "mlp.c_fc.bias", (ff,), "b"),
              (q + "mlp.c_proj.weight", (d, ff), "w"), (q + "mlp.c_proj.bias", (d,), "b")]
    t += [(p + "ln_final.weight", (d,), "one"), (p + "ln_final.bias", (d,), "zero"),
          (p + "text_projection", (d, d), "w")]
    return t


def kl_vae_layers(t, p="first_stage_model."):
    """conv, norm and resnet builders of auto_encoder_kl.hpp that append their tensors to `t`."""

    def conv(name, cout, cin, k=3):
        t.extend([(p + name + ".weight", (cout, cin, k, k), "w"), (p + name + ".bias", (cout,), "b")])

    def norm(name, c):
        t.extend([(p + name + ".weight", (c,), "one"), (p + name + ".bias", (c,), "zero")])

    def resnet(name, cin, cout):
        norm(name + ".norm1", cin)
        conv(name + ".conv1", cout, cin)
        norm(name + ".norm2", cout)
        conv(name + ".conv2", cout, cout)
        if cin != cout:
            conv(name + ".nin_shortcut", cout, cin, k=1)

    return conv, norm, resnet


def vae_encoder_tensors():
    """Encoder half of the AutoEncoderKL (loaded only with vae_decode_only=false), plus quant_conv."""
    t = []
    conv, norm, resnet = kl_vae_layers(t)

    ch, ch_mult = 128, [1, 2, 4, 4]
    conv("encoder.conv_in", ch, 3)
    block_in = ch
    for i, mult in enumerate(ch_mult):
        block_in = ch if i == 0 else ch * ch_mult[i - 1]
        for j in range(2):
            resnet(f"encoder.down.{i}.block.{j}", block_in, ch * mult)
            block_in = ch * mult
        if i != len(ch_mult) - 1:
            conv(f"encoder.down.{i}.downsample.conv", block_in, block_in)
    resnet("encoder.mid.block_1", block_in, block_in)
    norm("encoder.mid.attn_1.norm", block_in)
    for n in ("q", "k", "v", "proj_out"):
        conv(f"encoder.mid.attn_1.{n}", block_in, block_in, k=1)
    resnet("encoder.mid.block_2", block_in, block_in)
    norm("encoder.norm_out", block_in)
    conv("encoder.conv_out", 8, block_in)  # double_z: mean and log-variance
    conv("quant_conv", 8, 8, k=1)
    return t


def vae_decoder_tensors():
    """Decoder half of the SD1 AutoEncoderKL (vae_decode_only), auto_encoder_kl.hpp."""
    p = "first_stage_model."
    t = []
    conv, norm, resnet = kl_vae_layers(t, p)

    conv("post_quant_conv", 4, 4, k=1)
    ch, ch_mult = 128, [1, 2, 4, 4]
    block_in = ch * ch_mult[-1]
    conv("decoder.conv_in", block_in, 4)
    resnet("decoder.mid.block_1", block_in, block_in)
    norm("decoder.mid.attn_1.norm", block_in)
    for n in ("q", "k", "v", "proj_out"):
        conv(f"decoder.mid.attn_1.{n}", block_in, block_in, k=1)
    resnet("decoder.mid.block_2", block_in, block_in)
    for i in reversed(range(len(ch_mult))):
        block_out = ch * ch_mult[i]
        for j in range(3):
            resnet(f"decoder.up.{i}.block.{j}", block_in, block_out)
            block_in = block_out
        if i != 0:
            conv(f"decoder.up.{i}.upsample.conv", block_in, block_in)
    norm("decoder.norm_out", block_in)
    t += [(p + "decoder.conv_out.weight", (3, block_in, 3, 3), "w"), (p + "decoder.conv_out.bias", (3,), "half")]
    return t


def tae_decoder_tensors():
    p = "tae.decoder.layers."
    t = [(p + "0.weight", (64, 4, 3, 3), "w"), (p + "0.bias", (64,), "b")]
    for n in (2, 3, 4, 7, 8, 9, 12, 13, 14, 17):  # residual blocks: conv, relu, conv, relu, conv
        for c in (0, 2, 4):
            t += [(f"{p}{n}.conv.{c}.weight", (64, 64, 3, 3), "w"), (f"{p}{n}.conv.{c}.bias", (64,), "b")]
    for n in (6, 11, 16):  # conv after each upsample, no bias
        t.append((f"{p}{n}.weight", (64, 64, 3, 3), "w"))
    t += [(p + "18.weight", (3, 64, 3, 3), "w"), (p + "18.bias", (3,), "half")]  # mid-grey images
    return t


def tae_encoder_tensors():
    """TinyEncoder of tae.hpp: loaded only by contexts that encode images (img2img, inpainting);
    decode-only contexts skip "tae.encoder" tensors. Listed last, so the other tensors' values do not
    change with it."""
    p = "tae.encoder.layers."
    t = [(p + "0.weight", (64, 3, 3, 3), "w"), (p + "0.bias", (64,), "b")]
    for n in (1, 3, 4, 5, 7, 8, 9, 11, 12, 13):  # TAEBlocks
        for c in (0, 2, 4):
            t += [(f"{p}{n}.conv.{c}.weight", (64, 64, 3, 3), "w"), (f"{p}{n}.conv.{c}.bias", (64,), "b")]
    for n in (2, 6, 10):  # stride-2 downsampling convs, no bias
        t.append((f"{p}{n}.weight", (64, 64, 3, 3), "w"))
    t += [(p + "14.weight", (4, 64, 3, 3), "w"), (p + "14.bias", (4,), "b")]
    return t


def all_tensors(variant="sdxs"):
    if variant == "sdxl":  # SDXL checkpoint names (conditioner.embedders.0/1); stable-diffusion.cpp: "SDXL (Vega)"
        return (clip_text_tensors("conditioner.embedders.0.transformer.text_model.") + open_clip_bigg_tensors() +
                unet_tensors("vega") + vae_decoder_tensors() + vae_encoder_tensors())
    if variant == "sdxs":
        return clip_text_tensors() + unet_tensors("sdxs") + tae_decoder_tensors() + tae_encoder_tensors()
    return clip_text_tensors() + unet_tensors("sd1") + vae_decoder_tensors()


def controlnet_tensors():
    return unet_tensors("sd1", prefix="", controlnet=True)


# --------------------------------------------------------------------------------------------
# Values
# --------------------------------------------------------------------------------------------

PERIOD = 1021  # prime, so tiled rows are shifted copies, not identical rows


def tensor_values(name, shape, kind, rng):
    n = int(np.prod(shape))
    if kind == "one":
        return np.ones(n, np.float16)
    if kind in ("zero", "b"):
        return np.zeros(n, np.float16)
    if kind == "half":
        return np.full(n, 0.5, np.float16)
    if kind == "emb":
        std = 1.0
    else:
        fan_in = int(np.prod(shape[1:]))
        std = 1.0 / np.sqrt(fan_in)
        if name.endswith("out.2.weight"):  # UNet output: keep eps moderate
            std *= 0.5
        if name.endswith(("decoder.layers.18.weight", "decoder.conv_out.weight")):  # image output: spread around grey
            std *= 1.0
    pattern = (rng.standard_normal(PERIOD) * std).astype(np.float16)
    reps = -(-n // PERIOD)
    return np.tile(pattern, reps)[:n]


# --------------------------------------------------------------------------------------------
# PyTorch zip checkpoint writer (no torch needed)
# --------------------------------------------------------------------------------------------

def _fake_torch():
    torch = types.ModuleType("torch")
    utils = types.ModuleType("torch._utils")

    class HalfStorage:
        pass

    HalfStorage.__module__, HalfStorage.__qualname__ = "torch", "HalfStorage"

    def _rebuild_tensor_v2(*args):
        raise RuntimeError("stand-in")

    _rebuild_tensor_v2.__module__, _rebuild_tensor_v2.__qualname__ = "torch._utils", "_rebuild_tensor_v2"
    torch.HalfStorage, torch._utils = HalfStorage, utils
    utils._rebuild_tensor_v2 = _rebuild_tensor_v2
    sys.modules.setdefault("torch", torch)
    sys.modules.setdefault("torch._utils", utils)
    return sys.modules["torch"].HalfStorage, sys.modules["torch._utils"]._rebuild_tensor_v2


class _Storage:
    def __init__(self, key, numel):
        self.key, self.numel = key, numel


class _Tensor:
    def __init__(self, storage, shape):
        self.storage, self.shape = storage, shape

    def __reduce__(self):
        stride, s = [], 1
        for d in reversed(self.shape):
            stride.insert(0, s)
            s *= d
        return (_REBUILD, (self.storage, 0, tuple(self.shape), tuple(stride), False, collections.OrderedDict()))


_HALF, _REBUILD = _fake_torch()


class _Pickler(pickle.Pickler):
    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            return ("storage", _HALF, obj.key, "cpu", obj.numel)
        return None


def write_ckpt(path, tensors, seed):
    rng = np.random.default_rng(seed)
    storages, blobs, state = {}, {}, {}
    for name, shape, kind in tensors:
        # one storage per (shape, kind); the token embedding gets its own
        skey = (tuple(shape), kind if kind != "b" else "zero", name if kind == "emb" else "")
        if skey not in storages:
            key = str(len(storages))
            storages[skey] = _Storage(key, int(np.prod(shape)))
            blobs[key] = tensor_values(name, shape, kind, rng).tobytes()
        state[name] = _Tensor(storages[skey], list(shape))
    buf = io.BytesIO()
    _Pickler(buf, protocol=2).dump({"state_dict": state})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        def put(name, data):  # fixed timestamp: identical bytes on every run
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), data,
                       compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        put("archive/data.pkl", buf.getvalue())
        put("archive/byteorder", b"little")
        for key, data in blobs.items():
            put(f"archive/data/{key}", data)
        put("archive/version", b"3\n")
    return len(storages)


# --------------------------------------------------------------------------------------------
# LoRA (safetensors, written by hand)
# --------------------------------------------------------------------------------------------

def write_safetensors(path, named_arrays):
    header, offset, chunks = {}, 0, []
    for name, arr in named_arrays:
        data = np.ascontiguousarray(arr).tobytes()
        dtype = {np.dtype(np.float16): "F16", np.dtype(np.float32): "F32"}[arr.dtype]
        header[name] = {"dtype": dtype, "shape": list(arr.shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        chunks.append(data)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for c in chunks:
            f.write(c)


def esrgan_tensors(scale):
    """RealESRGAN RRDBNet ("original" names, esrgan.hpp) with one RRDB block: the loader reads the
    block count from the names and the factor from conv_up1/conv_up2, so x2 and x4 both stay tiny
    (0.8 M parameters). Biases zero; the output is noise around grey."""
    nf, gc = 64, 32
    t = [("conv_first", nf, 3)]
    for r in (1, 2, 3):
        for c in range(1, 6):
            cin = nf + (c - 1) * gc
            t.append((f"body.0.rdb{r}.conv{c}", nf if c == 5 else gc, cin))
    t.append(("conv_body", nf, nf))
    t.append(("conv_up1", nf, nf))
    if scale == 4:
        t.append(("conv_up2", nf, nf))
    t += [("conv_hr", nf, nf), ("conv_last", 3, nf)]
    return t


def write_esrgan(path, scale, seed):
    rng = np.random.default_rng(seed)
    arrays = []
    for name, cout, cin in esrgan_tensors(scale):
        # He gain before each leaky ReLU of the upsampling tail, damped in the residual blocks: the
        # pixels stay spread around grey at x2 and x4 instead of fading to one value.
        gain = 1.4 if name in ("conv_up1", "conv_up2", "conv_hr") else (1.0 if name in ("conv_first", "conv_last") else 0.5)
        w = (rng.standard_normal((cout, cin, 3, 3)) / np.sqrt(cin * 9) * gain).astype(np.float16)
        b = np.full((cout,), 0.5 if name == "conv_last" else 0.0, np.float16)
        arrays += [(name + ".weight", w), (name + ".bias", b)]
    write_safetensors(path, arrays)
    return sum(a.size for _, a in arrays)


def write_lora(path, tensors, seed, rank=4, clip_layer=11):
    """clip_layer: the CLIP-L layer whose attention the LoRA touches (SDXL uses the penultimate
    layer's output, clip_skip 2, so its LoRA takes layer 10)."""
    rng = np.random.default_rng(seed + 1)
    shapes = {n: s for n, s, _ in tensors}
    targets = [n for n in shapes if n.endswith(".weight") and len(shapes[n]) == 2 and (
        (".transformer_blocks.0." in n and (".attn" in n or ".ff." in n)) or
        (".self_attn." in n and f"encoder.layers.{clip_layer}." in n))]
    out = []
    for n in targets:
        cout, cin = shapes[n]
        base = n[: -len(".weight")]
        down = (rng.standard_normal((rank, cin)) / np.sqrt(cin)).astype(np.float16)
        up = (rng.standard_normal((cout, rank)) / np.sqrt(rank)).astype(np.float16)
        out += [(base + ".lora_down.weight", down), (base + ".lora_up.weight", up),
                (base + ".alpha", np.array(float(rank), np.float32))]
    write_safetensors(path, out)
    return len(targets)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("outdir")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--with-controlnet", action="store_true",
                    help="also write model-sd1.ckpt (full SD1 layout) and controlnet.ckpt (SD1 ControlNet)")
    ap.add_argument("--with-sdxl", action="store_true",
                    help="also write model-sdxl.ckpt (SDXL, Vega layout) and lora-sdxl.safetensors")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)

    def emit(filename, tensors, seed):
        path = os.path.join(a.outdir, filename)
        n_storages = write_ckpt(path + ".tmp", tensors, seed)
        os.replace(path + ".tmp", path)
        params = sum(int(np.prod(s)) for _, s, _ in tensors)
        print(f"{path}: {len(tensors)} tensors, {params / 1e6:.1f} M params, {n_storages} storages, "
              f"{os.path.getsize(path) / 1e6:.2f} MB")

    tensors = all_tensors("sdxs")
    emit("model.ckpt", tensors, a.seed)
    lora = os.path.join(a.outdir, "lora.safetensors")
    n_lora = write_lora(lora + ".tmp", tensors, a.seed)
    os.replace(lora + ".tmp", lora)
    print(f"{lora}: {n_lora} LoRA targets, {os.path.getsize(lora) / 1e6:.2f} MB")
    for scale in (2, 4):
        path = os.path.join(a.outdir, f"esrgan-x{scale}.safetensors")
        n = write_esrgan(path + ".tmp", scale, a.seed + 10 + scale)
        os.replace(path + ".tmp", path)
        print(f"{path}: ESRGAN x{scale}, {n / 1e6:.2f} M params, {os.path.getsize(path) / 1e6:.2f} MB")
    if a.with_controlnet:
        emit("model-sd1.ckpt", all_tensors("sd1"), a.seed + 2)
        emit("controlnet.ckpt", controlnet_tensors(), a.seed + 3)
    if a.with_sdxl:
        sdxl = all_tensors("sdxl")
        emit("model-sdxl.ckpt", sdxl, a.seed + 4)
        lora = os.path.join(a.outdir, "lora-sdxl.safetensors")
        n_lora = write_lora(lora + ".tmp", sdxl, a.seed + 4, clip_layer=10)
        os.replace(lora + ".tmp", lora)
        print(f"{lora}: {n_lora} LoRA targets, {os.path.getsize(lora) / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
