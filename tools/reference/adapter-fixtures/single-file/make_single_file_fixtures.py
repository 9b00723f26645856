"""A tiny SDXL single-file checkpoint (original LDM/SGM key layout) and diffusers' references.

The UNet, VAE and CLIP-L are the real-architecture fixtures' own (packages/sdxl/fixtures/real-arch/repo);
text_encoder_2 is the real-arch OpenCLIP-bigG stand-in with 10 layers, because diffusers recognises an
SDXL base checkpoint by a key of that encoder's 10th resblock. The diffusers-format weights are written
into one `.safetensors` in the layout Stability AI's `sd_xl_base_1.0.safetensors` has (fp16, as the
published files are), by this script's own reverse mapping. The file is then read back through
diffusers' own single-file code (infer_diffusers_model_type, convert_ldm_unet_checkpoint,
convert_ldm_vae_checkpoint, convert_ldm_clip_checkpoint, convert_open_clip_checkpoint), and every
converted tensor must equal the fp16-rounded original: the file is what diffusers' from_single_file reads.
The references are StableDiffusionXLPipeline text2img runs on the components built from that
conversion (weights upcast to float32, as a CPU load of an fp16 checkpoint does).
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tools", "reference", "diffusers-fixtures"))
sys.path.insert(0, HERE)

import torch  # noqa: E402

import absent_hub_deps  # noqa: E402
import clip_text  # noqa: E402
import diffusers_env  # noqa: E402
import make_sdxl_fixtures as real_arch_script  # noqa: E402
import safetensors_io  # noqa: E402

REAL_ARCH = os.path.join(ROOT, "packages", "sdxl", "fixtures", "real-arch", "repo")
OUT_DIR = os.path.join(ROOT, "packages", "sdxl", "fixtures", "adapters", "single-file")
CHECKPOINT = "tiny-sdxl-base.safetensors"
HEIGHT, WIDTH = 64, 96
STEPS = 4
GUIDANCE = 5.0
PROMPT = "a photo of a red fox in the snow"
NEGATIVE = "blurry low quality"
TE2_LAYERS = 10

UNET_PREFIX = "model.diffusion_model."
VAE_PREFIX = "first_stage_model."
CLIP_L_PREFIX = "conditioner.embedders.0.transformer."
OPEN_CLIP_PREFIX = "conditioner.embedders.1.model."


# ------------------------------------------------------------------ diffusers -> LDM keys (ours)

RESNET_TO_LDM = [("norm1", "in_layers.0"), ("conv1", "in_layers.2"), ("norm2", "out_layers.0"), ("conv2", "out_layers.3"),
                 ("time_emb_proj", "emb_layers.1"), ("conv_shortcut", "skip_connection")]


def resnet_to_ldm(rest):
    head, _, tail = rest.partition(".")
    for new, old in RESNET_TO_LDM:
        if head == new:
            return f"{old}.{tail}"
    raise KeyError(rest)


def unet_key_to_ldm(key, config):
    lpb = config.layers_per_block
    top = {"time_embedding.linear_1": "time_embed.0", "time_embedding.linear_2": "time_embed.2",
           "add_embedding.linear_1": "label_emb.0.0", "add_embedding.linear_2": "label_emb.0.2",
           "conv_in": "input_blocks.0.0", "conv_norm_out": "out.0", "conv_out": "out.2"}
    module, _, param = key.rpartition(".")
    if module in top:
        return f"{top[module]}.{param}"
    parts = key.split(".")
    if parts[0] == "down_blocks":
        block = int(parts[1])
        if parts[2] == "downsamplers":  # down_blocks.b.downsamplers.0.conv.X
            return f"input_blocks.{1 + block * (lpb + 1) + lpb}.0.op.{parts[-1]}"
        layer = int(parts[3])
        index = 1 + block * (lpb + 1) + layer
        rest = ".".join(parts[4:])
        if parts[2] == "resnets":
            return f"input_blocks.{index}.0.{resnet_to_ldm(rest)}"
        return f"input_blocks.{index}.1.{rest}"
    if parts[0] == "mid_block":
        rest = ".".join(parts[3:])
        if parts[1] == "resnets":
            return f"middle_block.{2 * int(parts[2])}.{resnet_to_ldm(rest)}"
        return f"middle_block.1.{rest}"
    if parts[0] == "up_blocks":
        block = int(parts[1])
        if parts[2] == "upsamplers":
            has_attention = config.up_block_types[block].startswith("CrossAttn")
            return f"output_blocks.{block * (lpb + 1) + lpb}.{2 if has_attention else 1}.conv.{parts[-1]}"
        layer = int(parts[3])
        index = block * (lpb + 1) + layer
        rest = ".".join(parts[4:])
        if parts[2] == "resnets":
            return f"output_blocks.{index}.0.{resnet_to_ldm(rest)}"
        return f"output_blocks.{index}.1.{rest}"
    raise KeyError(key)


VAE_ATTENTION_TO_LDM = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def vae_key_to_ldm(key, config):
    blocks = len(config.block_out_channels)
    half, rest = key.split(".", 1)  # encoder / decoder / quant_conv / post_quant_conv
    if half in ("quant_conv", "post_quant_conv"):
        return key
    if rest.startswith("conv_norm_out."):
        return f"{half}.norm_out.{rest.split('.', 1)[1]}"
    if rest.startswith(("conv_in.", "conv_out.")):
        return key
    parts = rest.split(".")
    if parts[0] == "mid_block":
        if parts[1] == "resnets":
            tail = ".".join(parts[3:]).replace("conv_shortcut", "nin_shortcut")
            return f"{half}.mid.block_{int(parts[2]) + 1}.{tail}"
        module, _, param = ".".join(parts[3:]).rpartition(".")
        return f"{half}.mid.attn_1.{VAE_ATTENTION_TO_LDM[module]}.{param}"
    block = int(parts[1])
    ldm_block = block if half == "encoder" else blocks - 1 - block
    kind = "down" if half == "encoder" else "up"
    if parts[2] in ("downsamplers", "upsamplers"):
        return f"{half}.{kind}.{ldm_block}.{'downsample' if kind == 'down' else 'upsample'}.conv.{parts[-1]}"
    tail = ".".join(parts[4:]).replace("conv_shortcut", "nin_shortcut")
    return f"{half}.{kind}.{ldm_block}.block.{int(parts[3])}.{tail}"


OPEN_CLIP_LAYER = [("layer_norm1", "ln_1"), ("layer_norm2", "ln_2"), ("mlp.fc1", "mlp.c_fc"), ("mlp.fc2", "mlp.c_proj"),
                   ("self_attn.out_proj", "attn.out_proj")]


def open_clip_state(state):
    """CLIPTextModelWithProjection's state dict in OpenCLIP's layout: q/k/v fused into in_proj, projection transposed."""
    out = {}
    top = {"text_model.embeddings.position_embedding.weight": "positional_embedding",
           "text_model.embeddings.token_embedding.weight": "token_embedding.weight",
           "text_model.final_layer_norm.weight": "ln_final.weight", "text_model.final_layer_norm.bias": "ln_final.bias"}
    layers = sorted({int(k.split(".")[3]) for k in state if k.startswith("text_model.encoder.layers.")})
    for key, value in state.items():
        if key in top:
            out[top[key]] = value
        elif key == "text_projection.weight":
            out["text_projection"] = value.T.contiguous()
        elif key.startswith("text_model.encoder.layers.") and ".self_attn." in key and not ".out_proj." in key:
            continue  # fused below
        elif key.startswith("text_model.encoder.layers."):
            n, rest = key.split(".", 4)[3:]
            for new, old in OPEN_CLIP_LAYER:
                if rest.startswith(new + "."):
                    out[f"transformer.resblocks.{n}.{old}{rest[len(new):]}"] = value
                    break
            else:
                raise KeyError(key)
        else:
            raise KeyError(key)
    for n in layers:
        p = f"text_model.encoder.layers.{n}.self_attn"
        for kind in ("weight", "bias"):
            out[f"transformer.resblocks.{n}.attn.in_proj_{kind}"] = torch.cat([state[f"{p}.{x}_proj.{kind}"] for x in "qkv"], 0)
    # open_clip's CLIP keeps its contrastive temperature; a real SDXL checkpoint has it, diffusers ignores it
    out["logit_scale"] = torch.tensor(4.6052)
    return out


def single_file_state(unet, vae, text_encoder, text_encoder_2):
    checkpoint = {}
    for key, value in unet.state_dict().items():
        checkpoint[UNET_PREFIX + unet_key_to_ldm(key, unet.config)] = value
    for key, value in vae.state_dict().items():
        ldm = vae_key_to_ldm(key, vae.config)
        if ".mid.attn_1." in ldm and ldm.endswith(".weight") and value.ndim == 2:
            value = value[:, :, None, None]  # the LDM VAE's attention projections are 1x1 convolutions
        checkpoint[VAE_PREFIX + ldm] = value
    for key, value in text_encoder.state_dict().items():
        checkpoint[CLIP_L_PREFIX + key] = value
    # transformers keeps the position ids as a buffer; SGM checkpoints carry them for CLIP-L
    checkpoint[CLIP_L_PREFIX + "text_model.embeddings.position_ids"] = torch.arange(77, dtype=torch.int64)[None]
    for key, value in open_clip_state(text_encoder_2.state_dict()).items():
        checkpoint[OPEN_CLIP_PREFIX + key] = value
    return {k: v.half() if v.is_floating_point() else v for k, v in checkpoint.items()}


# ------------------------------------------------------------------ build


def read_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")


def te_config(path, **override):
    raw = read_json(path)
    keys = ["vocab_size", "hidden_size", "intermediate_size", "projection_dim", "num_hidden_layers", "num_attention_heads",
            "max_position_embeddings", "hidden_act", "layer_norm_eps", "bos_token_id", "eos_token_id", "pad_token_id", "initializer_range"]
    return clip_text.CLIPTextConfig(**{**{k: raw[k] for k in keys}, **override})


def compare(name, converted, expected):
    if set(converted) != set(expected):
        raise SystemExit(f"{name}: diffusers' conversion gives keys {sorted(set(converted) ^ set(expected))[:8]} that differ from the model's")
    for key, value in expected.items():
        got = converted[key]
        if tuple(got.shape) != tuple(value.shape) or not torch.equal(got.float(), value.half().float()):
            raise SystemExit(f"{name}: '{key}' after diffusers' conversion differs from the original (shape {tuple(got.shape)} vs {tuple(value.shape)})")
    print(f"{name}: {len(expected)} tensors equal after diffusers' conversion")


def build(out):
    import diffusers
    from diffusers.loaders import single_file_utils as sfu
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
    from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
    from diffusers.pipelines.stable_diffusion_xl.pipeline_stable_diffusion_xl import StableDiffusionXLPipeline
    from diffusers.schedulers.scheduling_euler_discrete import EulerDiscreteScheduler

    if os.path.exists(out):
        shutil.rmtree(out)
    config_repo = os.path.join(out, "config-repo")

    unet = UNet2DConditionModel.from_config(UNet2DConditionModel.load_config(os.path.join(REAL_ARCH, "unet"))).eval()
    unet.load_state_dict(safetensors_io.load_file(os.path.join(REAL_ARCH, "unet", "diffusion_pytorch_model.safetensors")))
    vae = AutoencoderKL.from_config(AutoencoderKL.load_config(os.path.join(REAL_ARCH, "vae"))).eval()
    vae.load_state_dict(safetensors_io.load_file(os.path.join(REAL_ARCH, "vae", "diffusion_pytorch_model.safetensors")))
    text_encoder = clip_text.CLIPTextModel(te_config(os.path.join(REAL_ARCH, "text_encoder", "config.json"))).eval()
    text_encoder.load_state_dict(safetensors_io.load_file(os.path.join(REAL_ARCH, "text_encoder", "model.safetensors")))
    te2_config = te_config(os.path.join(REAL_ARCH, "text_encoder_2", "config.json"), num_hidden_layers=TE2_LAYERS)
    text_encoder_2 = clip_text.CLIPTextModelWithProjection(te2_config).eval()
    text_encoder_2._init_weights(4)

    # ---- the config repo the loader reads (configs + tokenizers, no weights), as stabilityai's repo lays them out
    shutil.copyfile(os.path.join(REAL_ARCH, "model_index.json"), os.path.join(_mkdir(config_repo), "model_index.json"))
    for name in ("unet", "vae", "text_encoder", "tokenizer", "tokenizer_2"):
        for file in sorted(os.listdir(os.path.join(REAL_ARCH, name))):
            if file.endswith(".json") or file.endswith(".txt"):
                shutil.copyfile(os.path.join(REAL_ARCH, name, file), os.path.join(_mkdir(os.path.join(config_repo, name)), file))
    write_json(os.path.join(config_repo, "text_encoder_2", "config.json"), te2_config.to_dict("CLIPTextModelWithProjection"))
    shutil.copyfile(os.path.join(REAL_ARCH, "scheduler", "scheduler_config.json"),
                    os.path.join(_mkdir(os.path.join(config_repo, "scheduler")), "scheduler_config.json"))

    # ---- the single file
    checkpoint = single_file_state(unet, vae, text_encoder, text_encoder_2)
    path = os.path.join(out, CHECKPOINT)
    safetensors_io.save_file(checkpoint, path)
    loaded = safetensors_io.load_file(path)

    # ---- diffusers reads it back
    model_type = sfu.infer_diffusers_model_type(loaded)
    if model_type != "xl_base":
        raise SystemExit(f"diffusers infers '{model_type}', not 'xl_base'")
    converted_unet = sfu.convert_ldm_unet_checkpoint(loaded, unet.config)
    compare("unet", converted_unet, unet.state_dict())
    converted_vae = sfu.convert_ldm_vae_checkpoint(loaded, vae.config)
    compare("vae", converted_vae, vae.state_dict())
    if not sfu.is_clip_sdxl_model(loaded) or not sfu.is_open_clip_sdxl_model(loaded):
        raise SystemExit("diffusers does not see both SDXL text encoders in the file")
    converted_te = {k: v for k, v in sfu.convert_ldm_clip_checkpoint(loaded).items() if k != "text_model.embeddings.position_ids"}
    compare("text_encoder", converted_te, text_encoder.state_dict())
    converted_te2 = sfu.convert_open_clip_checkpoint(text_encoder_2, loaded, prefix=OPEN_CLIP_PREFIX)
    compare("text_encoder_2", converted_te2, text_encoder_2.state_dict())

    # ---- the components from the conversion (float32, as a CPU load upcasts), and the references
    for model, state in ((unet, converted_unet), (vae, converted_vae), (text_encoder, converted_te), (text_encoder_2, converted_te2)):
        model.load_state_dict({k: v.float() for k, v in state.items()})
    scheduler = EulerDiscreteScheduler.from_config(EulerDiscreteScheduler.load_config(os.path.join(config_repo, "scheduler")))
    # the real-arch fixtures' tokenizers (their files are what config-repo/tokenizer*/ holds)
    tokenizer = clip_text.TinyClipTokenizer(real_arch_script.WORDS, pad_token=clip_text.EOS)
    tokenizer_2 = clip_text.TinyClipTokenizer(real_arch_script.WORDS, pad_token="!")
    pipe = StableDiffusionXLPipeline(vae=vae, text_encoder=text_encoder, text_encoder_2=text_encoder_2, tokenizer=tokenizer,
                                     tokenizer_2=tokenizer_2, unet=unet, scheduler=scheduler)
    pipe.set_progress_bar_config(disable=True)
    refs = {}
    with torch.no_grad():
        g = torch.Generator().manual_seed(40)
        latents = torch.randn((1, 4, HEIGHT // 8, WIDTH // 8), generator=g)
        common = dict(prompt=PROMPT, negative_prompt=NEGATIVE, height=HEIGHT, width=WIDTH, num_inference_steps=STEPS, guidance_scale=GUIDANCE)
        refs["text2img.latents"] = latents
        refs["text2img.final_latents"] = pipe(latents=latents.clone(), output_type="latent", **common).images
        image = pipe(latents=latents.clone(), output_type="np", **common).images
        refs["text2img.image_uint8"] = torch.from_numpy((image * 255).round().astype("uint8"))
        embeds = pipe.encode_prompt(PROMPT, negative_prompt=NEGATIVE, device=torch.device("cpu"), do_classifier_free_guidance=True)
        for key, value in zip(("prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds", "negative_pooled_prompt_embeds"), embeds):
            refs[f"text2img.{key}"] = value
    os.makedirs(os.path.join(out, "references"), exist_ok=True)
    safetensors_io.save_file(refs, os.path.join(out, "references", "references.safetensors"))
    write_json(os.path.join(out, "references", "references.json"), {
        "params": {"height": HEIGHT, "width": WIDTH, "num_inference_steps": STEPS, "guidance_scale": GUIDANCE,
                   "prompt": PROMPT, "negative_prompt": NEGATIVE, "checkpoint": CHECKPOINT, "model_type": model_type},
        "tensors": {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)} for k, v in sorted(refs.items())},
    })
    write_manifest(out, diffusers.__version__)


def _mkdir(path):
    os.makedirs(path, exist_ok=True)
    return path


def write_manifest(out, version):
    files = {}
    for root, _dirs, names in os.walk(out):
        for name in names:
            path = os.path.join(root, name)
            rel = os.path.relpath(path, out).replace(os.sep, "/")
            if rel != "manifest.json":
                with open(path, "rb") as f:
                    files[rel] = hashlib.sha256(f.read()).hexdigest()
    write_json(os.path.join(out, "manifest.json"), {
        "diffusers_commit": COMMIT[0], "diffusers_version": version, "torch": torch.__version__,
        "script": "tools/reference/adapter-fixtures/single-file/make_single_file_fixtures.py", "files": dict(sorted(files.items())),
    })


COMMIT = [None]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--diffusers-git-dir", default="/work/.mirror/huggingface+diffusers/repo")
    parser.add_argument("--commit", default="58eb52c080")
    parser.add_argument("--hub-git-dir", default="/work/.mirror/huggingface+huggingface_hub/repo")
    parser.add_argument("--hub-commit", default="ee0a4510f")
    parser.add_argument("--out", default=OUT_DIR)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    work = tempfile.mkdtemp(prefix="single-file-fixtures-")
    try:
        src = diffusers_env.extract_sources(args.diffusers_git_dir, args.commit, os.path.join(work, "diffusers"), "src/diffusers")
        hub_src = diffusers_env.extract_sources(args.hub_git_dir, args.hub_commit, os.path.join(work, "hub"), "src/huggingface_hub")
        sys.path.insert(0, hub_src)
        absent_hub_deps.install()
        COMMIT[0] = diffusers_env.resolve_commit(args.diffusers_git_dir, args.commit)
        diffusers_env.setup(src)
        build(args.out)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
