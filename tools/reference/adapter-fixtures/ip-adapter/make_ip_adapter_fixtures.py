#!/usr/bin/python3
"""Tiny IP-Adapter fixtures and diffusers' outputs with them (see README.md for the command).

Writes, from the committed real-architecture SDXL fixtures (packages/sdxl/fixtures/real-arch):
- packages/sdxl/fixtures/adapters/ip-adapter/repo/: laid out like h94/IP-Adapter:
  `sdxl_models/ip-adapter_sdxl.safetensors` (keys `image_proj.proj.*`, `image_proj.norm.*`,
  `ip_adapter.<n>.to_k_ip.weight` / `to_v_ip.weight`, n = 1, 3, 5, ... over the tiny UNet's
  cross-attention processors, as diffusers numbers them), `sdxl_models/image_encoder/` (a
  tiny CLIPVisionModelWithProjection whose projection_dim the adapter takes) and
  `models/image_encoder/` (another encoder with a different projection_dim: the wrong
  encoder for this adapter, as h94's ViT-H one is for the bigG adapters);
- .../ip-adapter/references/: diffusers' SDXL pipeline with the adapter loaded into the UNet
  by diffusers' own `_load_ip_adapter_weights` at scale 0.6 (set_ip_adapter_scale), from the
  real-arch text2img reference's embeddings and latents plus an adapter image (4 steps, CFG 5):
  final latents and the uint8 image; one UNet call with given image embeddings; the image
  encoder's outputs for the preprocessed adapter image; the same text2img with
  `sdxl_models/ip-adapter-plus_sdxl_vit-h.safetensors` (a Resampler) and `models/image_encoder`;
- packages/model-builder/fixtures/clip-vision-projection/: another tiny vision encoder
  (quick_gelu) with transformers' outputs for random pixels (reference.safetensors), for the
  model builder's unit test.

Deterministic: seeded weights and inputs, one CPU thread; reruns reproduce every byte.
"""

import argparse
import hashlib
import json
import math
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
FIXTURES = os.path.join(HERE, "..", "..", "diffusers-fixtures")
sys.path.insert(0, FIXTURES)
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import clip_vision  # noqa: E402
import diffusers_env  # noqa: E402
import safetensors_io  # noqa: E402

REAL_ARCH = os.path.join(REPO_ROOT, "packages", "sdxl", "fixtures", "real-arch")
OUT = os.path.join(REPO_ROOT, "packages", "sdxl", "fixtures", "adapters", "ip-adapter")
BUILDER_OUT = os.path.join(REPO_ROOT, "packages", "model-builder", "fixtures", "clip-vision-projection")
SCALE = 0.6
# diffusers' per-block scales (as InstantStyle uses them); the parts left out get 0.
BLOCK_SCALES = {"down": {"block_1": [0.3, 0.9]}, "up": {"block_0": [0.0, 1.0, 0.0]}}
# Not square, so the processor's centre crop matters; the short edge is already 224, so the
# resize is the identity (PIL returns a copy for a same-size resize).
ADAPTER_IMAGE_HW = (224, 280)
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

ENCODER = clip_vision.CLIPVisionConfig(hidden_size=32, intermediate_size=37, projection_dim=24, num_hidden_layers=3,
                                       num_attention_heads=4, image_size=224, patch_size=32, hidden_act="gelu")
WRONG_ENCODER = clip_vision.CLIPVisionConfig(hidden_size=32, intermediate_size=37, projection_dim=20, num_hidden_layers=2,
                                             num_attention_heads=4, image_size=224, patch_size=32, hidden_act="gelu")
BUILDER_ENCODER = clip_vision.CLIPVisionConfig(hidden_size=24, intermediate_size=37, projection_dim=16, num_hidden_layers=2,
                                               num_attention_heads=4, image_size=32, patch_size=8, hidden_act="quick_gelu")


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def save_encoder(model, folder):
    write_json(os.path.join(folder, "config.json"), model.config.to_dict())
    safetensors_io.save_file(model.state_dict(), os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})


def adapter_image(seed):
    """A smooth seeded uint8 picture, HWC."""
    h, w = ADAPTER_IMAGE_HW
    g = torch.Generator().manual_seed(seed)
    y = torch.linspace(0, 1, h)[:, None, None]
    x = torch.linspace(0, 1, w)[None, :, None]
    c = torch.arange(3)[None, None, :].float()
    base = 0.5 + 0.4 * torch.sin(5.0 * x - 3.0 * y + 1.7 * c)
    coarse = torch.rand((1, 3, h // 16, w // 16), generator=g)
    coarse = torch.nn.functional.interpolate(coarse, size=(h, w), mode="bilinear", align_corners=False)[0].permute(1, 2, 0)
    return ((0.6 * base + 0.4 * coarse).clamp(0, 1) * 255).round().to(torch.uint8)


def clip_pixel_values(image_u8, crop=224):
    """transformers' CLIPImageProcessor for an image whose short edge is already `crop`:
    the resize is a copy, then the centre crop (top, left = floor of half the excess), the
    rescale (float64 x 1/255, cast to float32) and the float32 normalisation."""
    h, w, _ = image_u8.shape
    assert min(h, w) == crop
    top, left = (h - crop) // 2, (w - crop) // 2
    x = image_u8.numpy()[top:top + crop, left:left + crop].astype(np.float64) * (1 / 255)
    x = x.astype(np.float32)
    x = (x - np.array(CLIP_MEAN, dtype=np.float32)) / np.array(CLIP_STD, dtype=np.float32)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)[None]))


def ip_adapter_state_dict(unet, image_embed_dim, seed):
    """Weights in h94's file layout: `image_proj.*` (diffusers' ImageProjection, 4 tokens) and
    `ip_adapter.<n>.to_k_ip/to_v_ip.weight` [hidden, cross_attention_dim] for the n-th
    processor in unet.attn_processors order (cross-attention ones are odd: 1, 3, 5, ...)."""
    g = torch.Generator().manual_seed(seed)
    cross = unet.config.cross_attention_dim
    rand = lambda *shape: torch.randn(shape, generator=g)  # noqa: E731
    tensors = {
        "image_proj.proj.weight": rand(4 * cross, image_embed_dim) / math.sqrt(image_embed_dim),
        "image_proj.proj.bias": 0.1 * rand(4 * cross),
        "image_proj.norm.weight": 1.0 + 0.1 * rand(cross),
        "image_proj.norm.bias": 0.1 * rand(cross),
    }
    key_id = 1
    for name in unet.attn_processors.keys():
        if name.endswith("attn1.processor"):
            continue
        hidden = unet.get_submodule(name[: -len(".processor")]).to_q.out_features
        tensors[f"ip_adapter.{key_id}.to_k_ip.weight"] = rand(hidden, cross) / math.sqrt(cross)
        tensors[f"ip_adapter.{key_id}.to_v_ip.weight"] = rand(hidden, cross) / math.sqrt(cross)
        key_id += 2
    return tensors


def ip_adapter_plus_state_dict(unet, embed_dim, seed, hidden=32, heads=2, queries=16, depth=4):
    """IP-Adapter Plus in h94's file layout (the original Resampler's names, which diffusers'
    loader renames): `image_proj.latents`, `proj_in`, `proj_out`, `norm_out` and per layer
    `layers.<i>.0.{norm1,norm2,to_q,to_kv,to_out}` (attention, 64-wide heads) and
    `layers.<i>.1.{0,1,3}` (LayerNorm, GELU feed-forward x4 without biases), plus the same
    `ip_adapter.<n>.to_k_ip/to_v_ip` as the plain adapter."""
    g = torch.Generator().manual_seed(seed)
    cross = unet.config.cross_attention_dim
    inner = heads * 64
    rand = lambda *shape: torch.randn(shape, generator=g)  # noqa: E731
    tensors = {
        "image_proj.latents": rand(1, queries, hidden) / math.sqrt(hidden),
        "image_proj.proj_in.weight": rand(hidden, embed_dim) / math.sqrt(embed_dim),
        "image_proj.proj_in.bias": 0.1 * rand(hidden),
        "image_proj.proj_out.weight": rand(cross, hidden) / math.sqrt(hidden),
        "image_proj.proj_out.bias": 0.1 * rand(cross),
        "image_proj.norm_out.weight": 1.0 + 0.1 * rand(cross),
        "image_proj.norm_out.bias": 0.1 * rand(cross),
    }
    for i in range(depth):
        p = f"image_proj.layers.{i}"
        for norm in (f"{p}.0.norm1", f"{p}.0.norm2", f"{p}.1.0"):
            tensors[f"{norm}.weight"] = 1.0 + 0.1 * rand(hidden)
            tensors[f"{norm}.bias"] = 0.1 * rand(hidden)
        tensors[f"{p}.0.to_q.weight"] = rand(inner, hidden) / math.sqrt(hidden)
        tensors[f"{p}.0.to_kv.weight"] = rand(2 * inner, hidden) / math.sqrt(hidden)
        tensors[f"{p}.0.to_out.weight"] = rand(hidden, inner) / math.sqrt(inner)
        tensors[f"{p}.1.1.weight"] = rand(4 * hidden, hidden) / math.sqrt(hidden)
        tensors[f"{p}.1.3.weight"] = rand(hidden, 4 * hidden) / math.sqrt(4 * hidden)
    for key, value in ip_adapter_state_dict(unet, 1, seed + 1).items():
        if key.startswith("ip_adapter."):
            tensors[key] = value
    return tensors


def split_like_load_ip_adapter(tensors):
    """What diffusers' load_ip_adapter makes of a safetensors file: two dicts by key prefix."""
    state = {"image_proj": {}, "ip_adapter": {}}
    for key, value in tensors.items():
        if key.startswith("image_proj."):
            state["image_proj"][key[len("image_proj."):]] = value
        elif key.startswith("ip_adapter."):
            state["ip_adapter"][key[len("ip_adapter."):]] = value
    return state


class References:
    def __init__(self):
        self.tensors, self.notes = {}, {}

    def add(self, name, tensor, note=None):
        self.tensors[name] = torch.as_tensor(tensor).detach().cpu().contiguous()
        if note:
            self.notes[name] = note

    def save(self, path, params=None):
        safetensors_io.save_file(self.tensors, path)
        if params is not None:
            entries = {n: {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "note": self.notes.get(n, "")}
                       for n, t in sorted(self.tensors.items())}
            write_json(path.replace(".safetensors", ".json"), {"params": params, "tensors": entries})


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--diffusers-git-dir", default="/work/.mirror/huggingface+diffusers/repo")
    parser.add_argument("--commit", default="58eb52c080")
    parser.add_argument("--hub-git-dir", default="/work/.mirror/huggingface+huggingface_hub/repo")
    parser.add_argument("--hub-commit", default="ee0a4510f")
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    work = tempfile.mkdtemp(prefix="ip-adapter-fixtures-")
    try:
        src = diffusers_env.extract_sources(args.diffusers_git_dir, args.commit, os.path.join(work, "diffusers"), "src/diffusers")
        if os.path.isdir(args.hub_git_dir):
            sys.path.insert(0, diffusers_env.extract_sources(args.hub_git_dir, args.hub_commit, os.path.join(work, "hub"), "src/huggingface_hub"))
        commit = diffusers_env.resolve_commit(args.diffusers_git_dir, args.commit)
        diffusers_env.setup(src)
        with torch.no_grad():
            build_model_builder_fixture()
            build(commit)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build_model_builder_fixture():
    if os.path.exists(BUILDER_OUT):
        shutil.rmtree(BUILDER_OUT)
    model = clip_vision.CLIPVisionModelWithProjection(BUILDER_ENCODER).eval()
    model.init_weights(40)
    save_encoder(model, BUILDER_OUT)
    pixels = torch.randn((2, 3, 32, 32), generator=torch.Generator().manual_seed(41))
    out = model(pixels, output_hidden_states=True)
    refs = References()
    refs.add("input.pixel_values", pixels)
    refs.add("output.image_embeds", out.image_embeds)
    refs.add("output.last_hidden_state", out.last_hidden_state)
    for i, state in enumerate(out.hidden_states):
        refs.add(f"output.hidden_states.{i}", state)
    refs.save(os.path.join(BUILDER_OUT, "reference.safetensors"))


def load_real_arch(cls, name):
    folder = os.path.join(REAL_ARCH, "repo", name)
    model = cls.from_config(read_json(os.path.join(folder, "config.json")))
    model.load_state_dict(safetensors_io.load_file(os.path.join(folder, "diffusion_pytorch_model.safetensors")))
    return model.eval()


def build(commit):
    import diffusers
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
    from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
    from diffusers.pipelines.stable_diffusion_xl.pipeline_stable_diffusion_xl import StableDiffusionXLPipeline
    from diffusers.schedulers.scheduling_euler_discrete import EulerDiscreteScheduler

    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    repo = os.path.join(OUT, "repo")
    unet = load_real_arch(UNet2DConditionModel, "unet")
    vae = load_real_arch(AutoencoderKL, "vae")
    scheduler = EulerDiscreteScheduler.from_config(read_json(os.path.join(REAL_ARCH, "repo", "scheduler", "scheduler_config.json")))
    real_refs = safetensors_io.load_file(os.path.join(REAL_ARCH, "references", "references.safetensors"))
    real_params = read_json(os.path.join(REAL_ARCH, "references", "references.json"))["params"]

    encoder = clip_vision.CLIPVisionModelWithProjection(ENCODER).eval()
    encoder.init_weights(50)
    save_encoder(encoder, os.path.join(repo, "sdxl_models", "image_encoder"))
    wrong = clip_vision.CLIPVisionModelWithProjection(WRONG_ENCODER).eval()
    wrong.init_weights(51)
    save_encoder(wrong, os.path.join(repo, "models", "image_encoder"))
    adapter = ip_adapter_state_dict(unet, ENCODER.projection_dim, 52)
    safetensors_io.save_file(adapter, os.path.join(repo, "sdxl_models", "ip-adapter_sdxl.safetensors"))

    refs = References()
    pipe = StableDiffusionXLPipeline(vae=vae, text_encoder=None, text_encoder_2=None, tokenizer=None, tokenizer_2=None,
                                     unet=unet, scheduler=scheduler, image_encoder=encoder, feature_extractor=None)
    pipe.set_progress_bar_config(disable=True)
    given = {k: real_refs[f"text2img.{k}"] for k in
             ("prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds", "negative_pooled_prompt_embeds")}
    common = dict(height=real_params["height"], width=real_params["width"], num_inference_steps=real_params["num_inference_steps"],
                  guidance_scale=real_params["guidance_scale"], **given)
    # The unchanged UNet still gives the real-arch reference: the fixtures were loaded as made.
    plain = pipe(latents=real_refs["text2img.latents"].clone(), output_type="latent", **common).images
    # (within float32 noise: the real-arch references were made by another torch 1.13 build)
    reference = real_refs["text2img.final_latents"]
    assert (plain - reference).abs().max() <= 1e-5 * reference.abs().max(), "the real-arch text2img reference does not reproduce"

    # diffusers' own IP-Adapter path: load_ip_adapter splits the file by prefix and hands it to the UNet.
    unet._load_ip_adapter_weights([split_like_load_ip_adapter(adapter)], low_cpu_mem_usage=False)
    # loaders/ip_adapter.py imports the Siglip classes too (for other adapters); only names here.
    transformers = sys.modules["transformers"]
    for name in ("SiglipImageProcessor", "SiglipVisionModel"):
        setattr(transformers, name, type(name, (), {}))
    from diffusers.loaders.ip_adapter import IPAdapterMixin

    IPAdapterMixin.set_ip_adapter_scale(pipe, SCALE)
    scales = {tuple(p.scale) for p in unet.attn_processors.values() if hasattr(p, "to_k_ip")}
    assert scales == {(SCALE,)}, scales

    image_u8 = adapter_image(53)
    pixels = clip_pixel_values(image_u8)
    refs.add("ip_adapter_image.uint8", image_u8, f"HWC {ADAPTER_IMAGE_HW}; the adapter image, given to the pipeline as "
             "CLIPImageProcessor (size 224, crop 224) pixel values")
    encoded = encoder(pixels, output_hidden_states=True)
    refs.add("image_encoder.image_embeds", encoded.image_embeds)
    refs.add("image_encoder.last_hidden_state", encoded.last_hidden_state)
    refs.add("image_encoder.hidden_states_penultimate", encoded.hidden_states[-2])

    final = pipe(latents=real_refs["text2img.latents"].clone(), ip_adapter_image=pixels, output_type="latent", **common).images
    refs.add("text2img.final_latents", final, f"StableDiffusionXLPipeline, IP-Adapter scale {SCALE}, from the real-arch text2img inputs")
    image = pipe(latents=real_refs["text2img.latents"].clone(), ip_adapter_image=pixels, output_type="np", **common).images
    refs.add("text2img.image_uint8", torch.from_numpy((image * 255).round().astype("uint8")), "numpy_to_pil's rounding")

    IPAdapterMixin.set_ip_adapter_scale(pipe, BLOCK_SCALES)
    final = pipe(latents=real_refs["text2img.latents"].clone(), ip_adapter_image=pixels, output_type="latent", **common).images
    refs.add("block_scales.text2img.final_latents", final, f"set_ip_adapter_scale({BLOCK_SCALES})")
    IPAdapterMixin.set_ip_adapter_scale(pipe, SCALE)

    # One UNet call (batch 2) with given image embeddings [2, 1, projection_dim].
    g = torch.Generator().manual_seed(54)
    embeds = torch.randn((2, 1, ENCODER.projection_dim), generator=g)
    added = {"text_embeds": real_refs["unet.text_embeds"], "time_ids": real_refs["unet.time_ids"], "image_embeds": [embeds]}
    out = unet(real_refs["unet.sample"], real_refs["unet.timestep"], real_refs["unet.encoder_hidden_states"], added_cond_kwargs=added).sample
    refs.add("unet.image_embeds", embeds, "inputs otherwise the real-arch unet.* reference's")
    refs.add("unet.out_sample", out, f"IP-Adapter scale {SCALE}")

    # IP-Adapter Plus (Resampler) with the other encoder (h94: ip-adapter-plus_sdxl_vit-h + models/image_encoder):
    # the pipeline feeds the encoder's penultimate hidden states, and those of zero pixels as the negative.
    plus = ip_adapter_plus_state_dict(unet, WRONG_ENCODER.hidden_size, 55)
    safetensors_io.save_file(plus, os.path.join(repo, "sdxl_models", "ip-adapter-plus_sdxl_vit-h.safetensors"))
    plus_unet = load_real_arch(UNet2DConditionModel, "unet")
    plus_unet._load_ip_adapter_weights([split_like_load_ip_adapter(plus)], low_cpu_mem_usage=False)
    plus_pipe = StableDiffusionXLPipeline(vae=vae, text_encoder=None, text_encoder_2=None, tokenizer=None, tokenizer_2=None,
                                          unet=plus_unet, scheduler=scheduler, image_encoder=wrong, feature_extractor=None)
    plus_pipe.set_progress_bar_config(disable=True)
    IPAdapterMixin.set_ip_adapter_scale(plus_pipe, SCALE)
    refs.add("plus.image_encoder.hidden_states_penultimate", wrong(pixels, output_hidden_states=True).hidden_states[-2],
             "models/image_encoder on the adapter image")
    final = plus_pipe(latents=real_refs["text2img.latents"].clone(), ip_adapter_image=pixels, output_type="latent", **common).images
    refs.add("plus.text2img.final_latents", final, f"IP-Adapter Plus, scale {SCALE}, same inputs as text2img.*")
    image = plus_pipe(latents=real_refs["text2img.latents"].clone(), ip_adapter_image=pixels, output_type="np", **common).images
    refs.add("plus.text2img.image_uint8", torch.from_numpy((image * 255).round().astype("uint8")))

    params = {
        "scale": SCALE, "block_scales": BLOCK_SCALES, "height": real_params["height"], "width": real_params["width"],
        "num_inference_steps": real_params["num_inference_steps"], "guidance_scale": real_params["guidance_scale"],
        "inputs": "prompt embeddings and latents: real-arch references text2img.*; unet call: real-arch unet.*",
        "negative_image_embeds": "zeros, as StableDiffusionXLPipeline.encode_image makes them for ImageProjection adapters",
    }
    os.makedirs(os.path.join(OUT, "references"), exist_ok=True)
    refs.save(os.path.join(OUT, "references", "references.safetensors"), params)
    write_manifest(commit)


def write_manifest(commit):
    import diffusers

    files = {}
    for root in (OUT, BUILDER_OUT):
        for folder, _dirs, names in os.walk(root):
            for name in names:
                path = os.path.join(folder, name)
                rel = os.path.relpath(path, REPO_ROOT).replace(os.sep, "/")
                if name == "manifest.json":
                    continue
                with open(path, "rb") as f:
                    files[rel] = hashlib.sha256(f.read()).hexdigest()
    write_json(os.path.join(OUT, "manifest.json"), {
        "diffusers_commit": commit,
        "diffusers_version": diffusers.__version__,
        "torch": torch.__version__,
        "numpy": np.__version__,
        "script": "tools/reference/adapter-fixtures/ip-adapter/make_ip_adapter_fixtures.py",
        "files": dict(sorted(files.items())),
    })


if __name__ == "__main__":
    main()
