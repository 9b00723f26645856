#!/usr/bin/python3
"""A tiny SDXL ControlNet in diffusers' folder format, and diffusers' own outputs with it.

Writes packages/sdxl/fixtures/adapters/controlnet/ (README.md beside this script says the
command):
- controlnet-tiny-sdxl/: config.json + diffusion_pytorch_model.safetensors, the layout of
  diffusers/controlnet-canny-sdxl-1.0. diffusers' ControlNetModel.from_unet on the tiny
  real-architecture UNet (packages/sdxl/fixtures/real-arch/repo/unet), with a small
  conditioning embedding, then every weight (the zero convolutions too) drawn again from a
  fixed seed so the residuals are far from zero;
- references/: one ControlNet forward (inputs and outputs) and three text2img runs of
  diffusers' StableDiffusionXLControlNetPipeline on the tiny real-arch UNet, VAE and
  scheduler (embeddings and latents given, a seeded control image): scale 0.5; scale 0.5 with
  control_guidance_end 0.5; scale 0.5 in guess mode; and scale 0 (the plain UNet's result);
- controlnet-tiny-sd15/: an SD 1.5-style ControlNet (no text_time embedding, cross-attention
  width 32), which the TypeScript side must refuse next to the SDXL UNet. Each keeps the final latents
  (output_type 'latent') and the uint8 image (output_type 'np', rounded as numpy_to_pil).

Deterministic: seeded weights and inputs, one CPU thread, fixed file order and JSON format.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
FIXTURES = os.path.join(REPO_ROOT, "tools", "reference", "diffusers-fixtures")
REAL_ARCH = os.path.join(REPO_ROOT, "packages", "sdxl", "fixtures", "real-arch", "repo")
OUT_DIR = os.path.join(REPO_ROOT, "packages", "sdxl", "fixtures", "adapters", "controlnet")
sys.path.insert(0, FIXTURES)
sys.path.insert(0, HERE)

import absent_hub_deps  # noqa: E402

absent_hub_deps.install()

import torch  # noqa: E402

import diffusers_env  # noqa: E402
import safetensors_io  # noqa: E402
from make_sdxl_fixtures import GUIDANCE, HEIGHT, STEPS, WIDTH, References, seeded_image, write_json  # noqa: E402

SCALE = 0.5
# Three stride-2 convolutions take the 64x96 control image to the 8x12 latent grid, as the
# real (16, 32, 96, 256) embedding does at 1024x1024; narrower to keep the file small.
CONDITIONING_CHANNELS = (8, 8, 16, 16)
WEIGHT_SEED = 7
INPUT_SEED = 40


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def load_model(cls, folder, file_name):
    model = cls.from_config(load_json(os.path.join(folder, "config.json")))
    model.load_state_dict(safetensors_io.load_file(os.path.join(folder, file_name)), strict=True)
    return model.eval()


def randomize(module, seed):
    """Every parameter drawn again: weights at 1/sqrt(fan_in), norm scales near 1, biases small."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(module.named_parameters()):
            noise = torch.randn(p.shape, generator=g)
            if p.dim() > 1:
                fan_in = p[0].numel()
                p.copy_(noise / fan_in ** 0.5)
            elif "norm" in name and name.endswith(".weight"):
                p.copy_(1 + 0.1 * noise)
            else:
                p.copy_(0.1 * noise)


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
    work = tempfile.mkdtemp(prefix="controlnet-fixtures-")
    try:
        src = diffusers_env.extract_sources(args.diffusers_git_dir, args.commit, os.path.join(work, "diffusers"), "src/diffusers")
        hub_src = diffusers_env.extract_sources(args.hub_git_dir, args.hub_commit, os.path.join(work, "hub"), "src/huggingface_hub")
        sys.path.insert(0, hub_src)
        commit = diffusers_env.resolve_commit(args.diffusers_git_dir, args.commit)
        diffusers_env.setup(src)
        # diffusers.models.controlnets' __init__ imports every ControlNet family; load only these.
        diffusers_env._lazy_package("diffusers.models.controlnets", os.path.join(src, "diffusers", "models", "controlnets"), {
            "ControlNetModel": "controlnet",
            "ControlNetOutput": "controlnet",
            "MultiControlNetModel": "multicontrolnet",
            "ControlNetUnionModel": "controlnet_union",
            "MultiControlNetUnionModel": "multicontrolnet_union",
        })
        build(args.out, commit)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def build(out, commit):
    import diffusers
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
    from diffusers.models.controlnets.controlnet import ControlNetModel
    from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
    from diffusers.models.controlnets.controlnet_union import ControlNetUnionModel
    from diffusers.pipelines.controlnet.pipeline_controlnet_sd_xl import StableDiffusionXLControlNetPipeline
    from diffusers.pipelines.controlnet.pipeline_controlnet_union_sd_xl import StableDiffusionXLControlNetUnionPipeline
    from diffusers.schedulers.scheduling_euler_discrete import EulerDiscreteScheduler
    from PIL import Image

    if os.path.exists(out):
        shutil.rmtree(out)
    unet = load_model(UNet2DConditionModel, os.path.join(REAL_ARCH, "unet"), "diffusion_pytorch_model.safetensors")
    vae = load_model(AutoencoderKL, os.path.join(REAL_ARCH, "vae"), "diffusion_pytorch_model.safetensors")
    scheduler = EulerDiscreteScheduler.from_config(load_json(os.path.join(REAL_ARCH, "scheduler", "scheduler_config.json")))

    controlnet = ControlNetModel.from_unet(unet, conditioning_embedding_out_channels=CONDITIONING_CHANNELS).eval()
    randomize(controlnet, WEIGHT_SEED)
    folder = os.path.join(out, "controlnet-tiny-sdxl")
    os.makedirs(folder)
    controlnet.save_config(folder)
    safetensors_io.save_file(dict(controlnet.state_dict()), os.path.join(folder, "diffusion_pytorch_model.safetensors"), metadata={"format": "pt"})

    # An SD 1.5-style ControlNet (no text_time embedding, its own cross-attention width), to
    # check that one made for another architecture is refused before any model runs.
    torch.manual_seed(WEIGHT_SEED + 1)
    sd15 = ControlNetModel(block_out_channels=(8, 16), down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"), layers_per_block=1,
                           attention_head_dim=2, cross_attention_dim=32, norm_num_groups=4,
                           conditioning_embedding_out_channels=(4, 4, 8, 8)).eval()
    randomize(sd15, WEIGHT_SEED + 1)
    sd15_folder = os.path.join(out, "controlnet-tiny-sd15")
    os.makedirs(sd15_folder)
    sd15.save_config(sd15_folder)
    safetensors_io.save_file(dict(sd15.state_dict()), os.path.join(sd15_folder, "diffusion_pytorch_model.safetensors"), metadata={"format": "pt"})

    refs = References()
    lh, lw = HEIGHT // 8, WIDTH // 8
    with torch.no_grad():
        g = torch.Generator().manual_seed(INPUT_SEED)
        # one ControlNet forward, batch 2 as with CFG, at half the run's size (smaller files)
        fh, fw = HEIGHT // 2, WIDTH // 2
        sample = torch.randn((2, 4, fh // 8, fw // 8), generator=g)
        ehs = torch.randn((2, 77, 64), generator=g)
        text_embeds = torch.randn((2, 32), generator=g)
        time_ids = torch.tensor([[fh, fw, 0, 0, fh, fw]] * 2, dtype=torch.float32)
        cond = torch.rand((2, 3, fh, fw), generator=g)
        timestep = torch.tensor(751.0)
        down, mid = controlnet(sample, timestep, ehs, cond, conditioning_scale=SCALE,
                               added_cond_kwargs={"text_embeds": text_embeds, "time_ids": time_ids}, return_dict=False)
        for k, v in dict(sample=sample, timestep=timestep, encoder_hidden_states=ehs, controlnet_cond=cond,
                         text_embeds=text_embeds, time_ids=time_ids).items():
            refs.add(f"forward.input.{k}", v)
        for i, d in enumerate(down):
            refs.add(f"forward.output.down_block_res_samples_{i}", d)
        refs.add("forward.output.mid_block_res_sample", mid)

        # text2img with the ControlNet, embeddings and latents given, CFG 5
        pipe = StableDiffusionXLControlNetPipeline(vae=vae, text_encoder=None, text_encoder_2=None, tokenizer=None,
                                                   tokenizer_2=None, unet=unet, controlnet=controlnet, scheduler=scheduler,
                                                   add_watermarker=False)
        pipe.set_progress_bar_config(disable=True)
        control_u8 = seeded_image(INPUT_SEED + 1)
        control = Image.fromarray(control_u8.numpy(), "RGB")
        embeds = dict(prompt_embeds=torch.randn((1, 77, 64), generator=g), negative_prompt_embeds=torch.randn((1, 77, 64), generator=g),
                      pooled_prompt_embeds=torch.randn((1, 32), generator=g), negative_pooled_prompt_embeds=torch.randn((1, 32), generator=g))
        latents = torch.randn((1, 4, lh, lw), generator=g)
        refs.add("text2img.control_image_uint8", control_u8, "HWC RGB control image, at the output size (no resize)")
        for k, v in embeds.items():
            refs.add(f"text2img.{k}", v)
        refs.add("text2img.latents", latents)
        runs = {
            "text2img": {},
            "text2img_end": {"control_guidance_end": 0.5},
            "text2img_guess": {"guess_mode": True},
        }
        common = dict(height=HEIGHT, width=WIDTH, num_inference_steps=STEPS, guidance_scale=GUIDANCE,
                      controlnet_conditioning_scale=SCALE, image=control, **embeds)
        for name, extra in runs.items():
            final = pipe(latents=latents.clone(), output_type="latent", **common, **extra).images
            refs.add(f"{name}.final_latents", final, f"StableDiffusionXLControlNetPipeline, {extra or 'defaults'}")
            image = pipe(latents=latents.clone(), output_type="np", **common, **extra).images
            refs.add(f"{name}.image_uint8", torch.from_numpy((image * 255).round().astype("uint8")), "numpy_to_pil's rounding")
        plain = pipe(latents=latents.clone(), output_type="latent", **{**common, "controlnet_conditioning_scale": 0.0}).images
        refs.add("text2img_scale0.final_latents", plain, "the same run at controlnet_conditioning_scale 0: the plain UNet's result")

        build_union(out, refs, unet, vae, scheduler, ControlNetUnionModel, StableDiffusionXLControlNetUnionPipeline, embeds, latents, control, g)

    params = {
        "height": HEIGHT, "width": WIDTH, "num_inference_steps": STEPS, "guidance_scale": GUIDANCE,
        "controlnet_conditioning_scale": SCALE, "forward.timestep": 751.0, "forward.conditioning_scale": SCALE,
        "runs": {name: extra for name, extra in runs.items()},
        "conditioning_embedding_out_channels": list(CONDITIONING_CHANNELS), "weight_seed": WEIGHT_SEED, "input_seed": INPUT_SEED,
        "union": {"forward.control_mode": [3], "forward2.control_mode": [1, 3], "text2img.control_mode": [3], "text2img2.control_mode": [1, 3],
                  "num_control_type": UNION_CONTROL_TYPES},
        "diffusers_commit": commit, "diffusers_version": diffusers.__version__, "torch": torch.__version__,
        "script": "tools/reference/adapter-fixtures/controlnet/make_controlnet_fixtures.py",
    }
    refs.save(os.path.join(out, "references"), params)


UNION_CONTROL_TYPES = 6


def build_union(out, refs, unet, vae, scheduler, ControlNetUnionModel, Pipeline, embeds, latents, control, g):
    """A ControlNet-Union on the same UNet: its config is what from_unet copies, with the tokens'
    width at block_out_channels[0] (16) so the tiny model can carry them; every weight drawn from a seed."""
    from PIL import Image

    keys = ("in_channels", "flip_sin_to_cos", "freq_shift", "down_block_types", "only_cross_attention", "block_out_channels",
            "layers_per_block", "downsample_padding", "mid_block_scale_factor", "act_fn", "norm_num_groups", "norm_eps",
            "cross_attention_dim", "attention_head_dim", "use_linear_projection", "upcast_attention", "resnet_time_scale_shift",
            "projection_class_embeddings_input_dim", "addition_embed_type", "addition_time_embed_dim", "transformer_layers_per_block")
    config = {k: unet.config[k] for k in keys}
    union = ControlNetUnionModel(**config, conditioning_embedding_out_channels=CONDITIONING_CHANNELS, num_control_type=UNION_CONTROL_TYPES,
                                 num_trans_channel=16, num_trans_head=2, num_trans_layer=1, num_proj_channel=16).eval()
    randomize(union, WEIGHT_SEED + 2)
    folder = os.path.join(out, "controlnet-union-tiny-sdxl")
    os.makedirs(folder)
    union.save_config(folder)
    safetensors_io.save_file(dict(union.state_dict()), os.path.join(folder, "diffusion_pytorch_model.safetensors"), metadata={"format": "pt"})

    # the forward inputs, shared by the one- and two-image calls (the first uses the first image)
    fh, fw = HEIGHT // 2, WIDTH // 2
    sample = torch.randn((2, 4, fh // 8, fw // 8), generator=g)
    ehs = torch.randn((2, 77, 64), generator=g)
    text_embeds = torch.randn((2, 32), generator=g)
    time_ids = torch.tensor([[fh, fw, 0, 0, fh, fw]] * 2, dtype=torch.float32)
    conds = [torch.rand((2, 3, fh, fw), generator=g) for _ in range(2)]
    timestep = torch.tensor(751.0)
    for k, v in dict(sample=sample, timestep=timestep, encoder_hidden_states=ehs, controlnet_cond=torch.stack(conds, 1),
                     text_embeds=text_embeds, time_ids=time_ids).items():
        refs.add(f"union.forward.input.{k}", v, "controlnet_cond: [B, 2, 3, H, W], the one-mode call takes [:, :1]" if k == "controlnet_cond" else None)
    for name, modes, guess in (("forward", [3], False), ("forward2", [1, 3], False), ("forward_guess", [3], True), ("forward2_guess", [1, 3], True)):
        control_type = torch.zeros((2, UNION_CONTROL_TYPES))
        control_type[:, modes] = 1
        images = conds[: len(modes)]
        down, mid = union(sample, timestep, ehs, images, control_type, modes, conditioning_scale=SCALE, guess_mode=guess,
                          added_cond_kwargs={"text_embeds": text_embeds, "time_ids": time_ids}, return_dict=False)
        for i, d in enumerate(down):
            refs.add(f"union.{name}.output.down_block_res_samples_{i}", d)
        refs.add(f"union.{name}.output.mid_block_res_sample", mid, f"ControlNetUnionModel forward, control modes {modes}, conditioning_scale {SCALE}, guess_mode {guess}")

    pipe = Pipeline(vae=vae, text_encoder=None, text_encoder_2=None, tokenizer=None, tokenizer_2=None, unet=unet, controlnet=union,
                    scheduler=scheduler, add_watermarker=False)
    pipe.set_progress_bar_config(disable=True)
    second_u8 = seeded_image(INPUT_SEED + 2)
    refs.add("union.text2img.control_image_2_uint8", second_u8, "the second control image of the two-mode run")
    second = Image.fromarray(second_u8.numpy(), "RGB")
    common = dict(height=HEIGHT, width=WIDTH, num_inference_steps=STEPS, guidance_scale=GUIDANCE, controlnet_conditioning_scale=SCALE, **embeds)
    for name, images, modes in (("text2img", [control], [3]), ("text2img2", [control, second], [1, 3])):
        final = pipe(latents=latents.clone(), output_type="latent", control_image=images, control_mode=modes, **common).images
        refs.add(f"union.{name}.final_latents", final, f"StableDiffusionXLControlNetUnionPipeline, control_mode {modes}")
        image = pipe(latents=latents.clone(), output_type="np", control_image=images, control_mode=modes, **common).images
        refs.add(f"union.{name}.image_uint8", torch.from_numpy((image * 255).round().astype("uint8")), "numpy_to_pil's rounding")


if __name__ == "__main__":
    main()
