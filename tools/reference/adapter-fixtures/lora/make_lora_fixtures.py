#!/usr/bin/python3
"""Tiny LoRAs for the real-architecture SDXL fixture repo, in kohya's and diffusers' (PEFT) formats.

Writes packages/sdxl/fixtures/adapters/lora/ (README.md next to this script says what comes from
diffusers and what from the formula):
- kohya/tiny_lora_kohya.safetensors: a kohya-ss (sd-scripts) LoRA: `lora_unet_<sgm module>`,
  `lora_te1_*`, `lora_te2_*` with `lora_down.weight`, `lora_up.weight` and `alpha`, seeded;
- diffusers/pytorch_lora_weights.safetensors: the same weights as diffusers turns them into:
  diffusers' own `_maybe_map_sgm_blocks_to_diffusers` + `_convert_non_diffusers_lora_to_diffusers`,
  then the per-model conversions its loaders apply (`convert_unet_state_dict_to_peft`;
  `convert_state_dict_to_diffusers` + `convert_state_dict_to_peft` for the text encoders), with
  the LoraConfig arguments diffusers' `get_peft_kwargs` derives, stored as diffusers'
  `save_lora_weights` does (`lora_adapter_metadata` in the safetensors metadata);
- references.safetensors + references.json: the fused weights at lora scale 0.8 (the formula
  W' = W + 0.8 * alpha / rank * up @ down), and diffusers' StableDiffusionXLPipeline text2img
  from the prompts with those weights loaded (final latents and uint8 image);
- manifest.json: commits, versions, every file's sha256.

Deterministic (seeded, one thread, fixed orders): reruns reproduce every byte.
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
BASE_SCRIPTS = os.path.join(REPO_ROOT, "tools", "reference", "diffusers-fixtures")
REAL_ARCH = os.path.join(REPO_ROOT, "packages", "sdxl", "fixtures", "real-arch")
OUT_DIR = os.path.join(REPO_ROOT, "packages", "sdxl", "fixtures", "adapters", "lora")
sys.path.insert(0, BASE_SCRIPTS)

import torch  # noqa: E402

sys.path.insert(0, HERE)
import absent_hub_deps  # noqa: E402
import clip_text  # noqa: E402
import diffusers_env  # noqa: E402
import make_sdxl_fixtures as base  # noqa: E402
import safetensors_io  # noqa: E402

LORA_SCALE = 0.8
ALPHA = 2.0  # one network alpha for every module (kohya's --network_alpha), ranks 2 to 4

# (kohya name without the lora_unet_/lora_te1_/lora_te2_ prefix, rank). UNet names are the
# sgm/LDM ones kohya's SDXL trainer writes (input_blocks / middle_block / output_blocks).
UNET_MODULES = [
    ("input_blocks_2_0_in_layers_2", 2),  # down_blocks.0.resnets.1.conv1, 3x3 conv
    ("input_blocks_3_0_op", 3),  # down_blocks.0.downsamplers.0.conv, 3x3 conv
    ("input_blocks_4_0_emb_layers_1", 2),  # down_blocks.1.resnets.0.time_emb_proj
    ("input_blocks_4_1_proj_in", 4),
    ("input_blocks_4_1_transformer_blocks_0_attn1_to_q", 4),
    ("input_blocks_4_1_transformer_blocks_0_attn1_to_k", 4),
    ("input_blocks_4_1_transformer_blocks_0_attn1_to_v", 4),
    ("input_blocks_4_1_transformer_blocks_0_attn1_to_out_0", 4),
    ("input_blocks_4_1_transformer_blocks_0_attn2_to_k", 3),
    ("input_blocks_4_1_transformer_blocks_0_attn2_to_v", 3),
    ("input_blocks_5_1_transformer_blocks_1_ff_net_0_proj", 2),
    ("input_blocks_5_1_transformer_blocks_1_ff_net_2", 2),
    ("input_blocks_5_1_proj_out", 4),
    ("middle_block_1_transformer_blocks_0_attn2_to_q", 4),
    ("middle_block_2_out_layers_3", 2),  # mid_block.resnets.1.conv2
    ("output_blocks_2_1_transformer_blocks_1_attn1_to_out_0", 4),
    ("output_blocks_2_2_conv", 3),  # up_blocks.0.upsamplers.0.conv
    ("output_blocks_3_0_skip_connection", 2),  # up_blocks.1.resnets.0.conv_shortcut, 1x1 conv
]
# SDXL conditions on the penultimate hidden states and text_encoder_2's projection, so the
# layers are picked to reach them; each has out_proj (diffusers tells the old key layout by it).
TE1_MODULES = [
    ("text_model_encoder_layers_0_self_attn_q_proj", 4),
    ("text_model_encoder_layers_0_self_attn_k_proj", 4),
    ("text_model_encoder_layers_0_self_attn_v_proj", 4),
    ("text_model_encoder_layers_0_self_attn_out_proj", 4),
    ("text_model_encoder_layers_1_mlp_fc1", 2),
    ("text_model_encoder_layers_1_mlp_fc2", 2),
]
TE2_MODULES = [
    ("text_model_encoder_layers_1_self_attn_q_proj", 3),
    ("text_model_encoder_layers_1_self_attn_v_proj", 3),
    ("text_model_encoder_layers_1_self_attn_out_proj", 3),
    ("text_model_encoder_layers_2_mlp_fc1", 4),
    ("text_model_encoder_layers_3_self_attn_out_proj", 2),
]


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")


def load_models():
    """The real-arch repo's UNet, VAE, CLIP encoders, tokenizers and scheduler, from its files."""
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
    from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
    from diffusers.schedulers.scheduling_euler_discrete import EulerDiscreteScheduler

    repo = os.path.join(REAL_ARCH, "repo")
    unet = UNet2DConditionModel(**base.UNET_CONFIG).eval()
    unet.load_state_dict(safetensors_io.load_file(os.path.join(repo, "unet", "diffusion_pytorch_model.safetensors")))
    vae = AutoencoderKL(**base.VAE_CONFIG).eval()
    vae.load_state_dict(safetensors_io.load_file(os.path.join(repo, "vae", "diffusion_pytorch_model.safetensors")))
    tokenizer = clip_text.TinyClipTokenizer(base.WORDS, pad_token=clip_text.EOS)
    tokenizer_2 = clip_text.TinyClipTokenizer(base.WORDS, pad_token="!")
    te_config, te2_config = base.text_encoder_configs(len(tokenizer.vocab), tokenizer.eos_token_id, tokenizer.bos_token_id, tokenizer.pad_token_id)
    text_encoder = clip_text.CLIPTextModel(te_config).eval()
    text_encoder.load_state_dict(safetensors_io.load_file(os.path.join(repo, "text_encoder", "model.safetensors")))
    text_encoder_2 = clip_text.CLIPTextModelWithProjection(te2_config).eval()
    text_encoder_2.load_state_dict(safetensors_io.load_file(os.path.join(repo, "text_encoder_2", "model.safetensors")))
    scheduler = EulerDiscreteScheduler(**base.SCHEDULER_CONFIG)
    return dict(unet=unet, vae=vae, text_encoder=text_encoder, text_encoder_2=text_encoder_2,
                tokenizer=tokenizer, tokenizer_2=tokenizer_2, scheduler=scheduler)


def kohya_lora(modules, prefix, target_weights, seed):
    """lora_down/lora_up/alpha per module; the shapes come from the target weight (Linear or Conv2d)."""
    out = {}
    for i, (name, rank) in enumerate(modules):
        weight = target_weights[prefix + name]
        g = torch.Generator().manual_seed(seed + i)
        out_features, in_features = weight.shape[0], weight.shape[1]
        kernel = tuple(weight.shape[2:])
        # kohya's conv LoRA: down has the layer's kernel, up is 1x1; down ~ 1/sqrt(fan-in) like the layer's own init
        down = torch.randn((rank, in_features) + kernel, generator=g) / (in_features * math.prod(kernel)) ** 0.5
        up = torch.randn((out_features, rank) + tuple(1 for _ in kernel), generator=g) * (0.6 / rank ** 0.5)
        out[f"{prefix}{name}.lora_down.weight"] = down.contiguous()
        out[f"{prefix}{name}.lora_up.weight"] = up.contiguous()
        out[f"{prefix}{name}.alpha"] = torch.tensor(ALPHA, dtype=torch.float32)
    return out


def diffusers_modules(models):
    """kohya name -> the module it adapts, by diffusers' own conversion of a probe file (each value tags its name)."""
    from diffusers.loaders.lora_conversion_utils import _convert_non_diffusers_lora_to_diffusers, _maybe_map_sgm_blocks_to_diffusers

    names = [prefix + name for prefix, modules in (("lora_unet_", UNET_MODULES), ("lora_te1_", TE1_MODULES), ("lora_te2_", TE2_MODULES)) for name, _ in modules]
    probe = {}
    for i, name in enumerate(names):
        probe[f"{name}.lora_down.weight"] = torch.full((1, 1), float(i))
        probe[f"{name}.lora_up.weight"] = torch.full((1, 1), float(i))
    converted, _ = _convert_non_diffusers_lora_to_diffusers(_maybe_map_sgm_blocks_to_diffusers(probe, models["unet"].config))
    out = {}
    for part, peft in to_peft(converted, models).items():
        for key, value in peft.items():
            if ".lora_A." in key:
                out[names[int(value.item())]] = (part, key.split(".lora_A.")[0])
    return out


def to_peft(converted, models):
    """diffusers' per-model conversion to the PEFT layout its loaders apply before creating LoRA layers."""
    from diffusers.utils.state_dict_utils import convert_state_dict_to_diffusers, convert_state_dict_to_peft, convert_unet_state_dict_to_peft

    out = {}
    for prefix in ("unet", "text_encoder", "text_encoder_2"):
        part = {k[len(prefix) + 1:]: v for k, v in converted.items() if k.startswith(prefix + ".")}
        if prefix == "unet":
            part = convert_unet_state_dict_to_peft(part)
        else:
            part = convert_state_dict_to_peft(convert_state_dict_to_diffusers(part))
        out[prefix] = part
    return out


def peft_metadata(peft_parts, network_alphas):
    """The LoraConfig arguments diffusers derives for each model (get_peft_kwargs), prefixed as save_lora_weights stores them."""
    from diffusers.utils.peft_utils import get_peft_kwargs

    metadata = {}
    for prefix, part in peft_parts.items():
        if prefix == "unet":
            rank = {f"^{k}": v.shape[1] for k, v in part.items() if "lora_B" in k and v.ndim > 1}
        else:
            rank = {k: v.shape[1] for k, v in part.items() if "lora_B" in k and v.ndim > 1}
        alphas = {k[len(prefix) + 1:]: v for k, v in network_alphas.items() if k.split(".")[0] == prefix}
        kwargs = get_peft_kwargs(rank, network_alpha_dict=alphas, peft_state_dict=part, is_unet=prefix == "unet")
        kwargs["target_modules"] = sorted(kwargs["target_modules"])  # a set in diffusers; sorted for stable bytes
        for key, value in sorted(kwargs.items()):
            metadata[f"{prefix}.{key}"] = value
    return metadata


def scaling_of(module, prefix, metadata):
    """PEFT's per-module scaling lora_alpha / r, with rank_pattern / alpha_pattern matched as PEFT does (anchored '^' or a '.'-suffix)."""
    def lookup(pattern_key, default):
        for pattern, value in metadata[f"{prefix}.{pattern_key}"].items():
            if pattern.startswith("^"):
                if module == pattern[1:]:
                    return value
            elif module == pattern or module.endswith("." + pattern):
                return value
        return default

    r = lookup("rank_pattern", metadata[f"{prefix}.r"])
    alpha = lookup("alpha_pattern", metadata[f"{prefix}.lora_alpha"])
    return alpha / r


def fused_weights(models, peft_parts, metadata):
    """W' = W + scale * (alpha / r) * B @ A (conv: B's 1x1 kernel times A's kernel), per adapted weight."""
    fused = {}
    for prefix, part in peft_parts.items():
        model_state = models[prefix].state_dict()
        for key in sorted(part):
            if ".lora_A." not in key:
                continue
            module = key.split(".lora_A.")[0]
            a = part[key]
            b = part[f"{module}.lora_B.weight"]
            weight = model_state[f"{module}.weight"]
            delta = (b.flatten(1) @ a.flatten(1)).reshape(weight.shape)
            fused[f"{prefix}.{module}.weight"] = (weight + LORA_SCALE * scaling_of(module, prefix, metadata) * delta).contiguous()
    return fused


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--diffusers-git-dir", required=True)
    parser.add_argument("--commit", default="58eb52c080")
    parser.add_argument("--hub-git-dir", default="/work/.mirror/huggingface+huggingface_hub/repo")
    parser.add_argument("--hub-commit", default="ee0a4510f")
    parser.add_argument("--out", default=OUT_DIR)
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    absent_hub_deps.install()
    work = tempfile.mkdtemp(prefix="lora-fixtures-")
    try:
        src = diffusers_env.extract_sources(args.diffusers_git_dir, args.commit, os.path.join(work, "diffusers"), "src/diffusers")
        hub_src = diffusers_env.extract_sources(args.hub_git_dir, args.hub_commit, os.path.join(work, "hub"), "src/huggingface_hub")
        sys.path.insert(0, hub_src)
        commit = diffusers_env.resolve_commit(args.diffusers_git_dir, args.commit)
        diffusers_env.setup(src)
        build(args.out, commit)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build(out, commit):
    from diffusers.loaders.lora_conversion_utils import _convert_non_diffusers_lora_to_diffusers, _maybe_map_sgm_blocks_to_diffusers
    from diffusers.pipelines.stable_diffusion_xl.pipeline_stable_diffusion_xl import StableDiffusionXLPipeline

    if os.path.exists(out):
        shutil.rmtree(out)
    models = load_models()

    # ---- the kohya file: each name's shapes come from the weight diffusers' own conversion maps it to
    target_weights = {}
    for kohya_name, (part, module) in diffusers_modules(models).items():
        target_weights[kohya_name] = models[part].state_dict()[f"{module}.weight"]
    kohya = {}
    kohya.update(kohya_lora(UNET_MODULES, "lora_unet_", target_weights, 1000))
    kohya.update(kohya_lora(TE1_MODULES, "lora_te1_", target_weights, 2000))
    kohya.update(kohya_lora(TE2_MODULES, "lora_te2_", target_weights, 3000))
    kohya_meta = {"ss_network_module": "networks.lora", "ss_network_dim": "4", "ss_network_alpha": str(ALPHA)}
    os.makedirs(os.path.join(out, "kohya"), exist_ok=True)
    safetensors_io.save_file(kohya, os.path.join(out, "kohya", "tiny_lora_kohya.safetensors"), metadata=kohya_meta)

    # ---- the diffusers/PEFT file: diffusers' conversion of the kohya state dict
    state = {k: v.clone() for k, v in kohya.items()}
    state = _maybe_map_sgm_blocks_to_diffusers(state, models["unet"].config)
    converted, network_alphas = _convert_non_diffusers_lora_to_diffusers(state)
    peft_parts = to_peft(converted, models)
    metadata = peft_metadata(peft_parts, network_alphas)
    peft_file = {f"{prefix}.{k}": v for prefix, part in peft_parts.items() for k, v in part.items()}
    os.makedirs(os.path.join(out, "diffusers"), exist_ok=True)
    safetensors_io.save_file(peft_file, os.path.join(out, "diffusers", "pytorch_lora_weights.safetensors"),
                             metadata={"format": "pt", "lora_adapter_metadata": json.dumps(metadata, indent=2, sort_keys=True)})

    # ---- fused weights by the formula, then diffusers' pipeline with them
    fused = fused_weights(models, peft_parts, metadata)
    for prefix in ("unet", "text_encoder", "text_encoder_2"):
        own = {k[len(prefix) + 1:]: v for k, v in fused.items() if k.startswith(prefix + ".")}
        missing, unexpected = models[prefix].load_state_dict(own, strict=False)
        assert not unexpected, unexpected
    refs = {f"fused.{k}": v for k, v in fused.items()}
    base_refs = safetensors_io.load_file(os.path.join(REAL_ARCH, "references", "references.safetensors"))
    latents = base_refs["text2img_prompt.latents"]
    pipe = StableDiffusionXLPipeline(**models)
    pipe.set_progress_bar_config(disable=True)
    common = dict(prompt=base.PROMPT, negative_prompt=base.NEGATIVE, height=base.HEIGHT, width=base.WIDTH,
                  num_inference_steps=base.STEPS, guidance_scale=base.GUIDANCE)
    with torch.no_grad():
        final = pipe(latents=latents.clone(), output_type="latent", **common).images
        image = pipe(latents=latents.clone(), output_type="np", **common).images
        embeds = pipe.encode_prompt(base.PROMPT, negative_prompt=base.NEGATIVE, device=torch.device("cpu"), do_classifier_free_guidance=True)
    refs["text2img_lora.final_latents"] = final.contiguous()
    refs["text2img_lora.image_uint8"] = torch.from_numpy((image * 255).round().astype("uint8"))
    refs["text2img_lora.prompt_embeds"] = embeds[0].contiguous()
    refs["text2img_lora.pooled_prompt_embeds"] = embeds[2].contiguous()
    safetensors_io.save_file(refs, os.path.join(out, "references.safetensors"))
    write_json(os.path.join(out, "references.json"), {
        "params": {
            "lora_scale": LORA_SCALE, "alpha": ALPHA, "prompt": base.PROMPT, "negative_prompt": base.NEGATIVE,
            "height": base.HEIGHT, "width": base.WIDTH, "num_inference_steps": base.STEPS, "guidance_scale": base.GUIDANCE,
            "latents": "real-arch references text2img_prompt.latents",
        },
        "tensors": {name: {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape)} for name, t in sorted(refs.items())},
        "notes": {
            "fused.*": "W + lora_scale * alpha / r * up @ down (the formula; peft is not installed), r and alpha from diffusers' get_peft_kwargs",
            "text2img_lora.*": "diffusers' StableDiffusionXLPipeline from the prompts with the fused weights loaded, latents given",
        },
    })
    write_manifest(out, commit)


def write_manifest(out, commit):
    import diffusers

    files = {}
    for root, _dirs, names in os.walk(out):
        for name in names:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, out).replace(os.sep, "/")
            if rel == "manifest.json":
                continue
            with open(path, "rb") as f:
                files[rel] = hashlib.sha256(f.read()).hexdigest()
    write_json(os.path.join(out, "manifest.json"), {
        "diffusers_commit": commit,
        "diffusers_version": diffusers.__version__,
        "torch": torch.__version__,
        "script": "tools/reference/adapter-fixtures/lora/make_lora_fixtures.py",
        "files": dict(sorted(files.items())),
    })


if __name__ == "__main__":
    main()
