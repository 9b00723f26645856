#!/usr/bin/python3
"""Tiny real-architecture SDXL fixtures, made with diffusers' own classes and pipelines.

Writes packages/sdxl/fixtures/real-arch/ (see README.md for the layout and the command):
- repo/: a diffusers-format SDXL repo laid out like stabilityai/stable-diffusion-xl-base-1.0,
  with the ONNX exports in Optimum's naming beside the diffusers weights (fp32 and
  `.fp16.safetensors` variants, tokenizers, scheduler, model_index.json);
- variants/: other exports of the same weights (float scalar timestep UNet, fp16 ONNX, a
  latent_sample VAE encoder, Optimum's own model_index.json) that tests assemble into the
  other layouts;
- references/: diffusers' outputs for given inputs (references.safetensors + .json);
- manifest.json: the diffusers commit, library versions and every file's sha256.

Deterministic: seeded weights and inputs, one CPU thread, files written in a fixed order
with fixed JSON formatting. Rerunning reproduces every byte (README.md says how to check).
"""

import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
OUT_DIR = os.path.join(REPO_ROOT, "packages", "sdxl", "fixtures", "real-arch")
sys.path.insert(0, HERE)

import numpy as np  # noqa: E402
import torch  # noqa: E402

import clip_text  # noqa: E402
import diffusers_env  # noqa: E402
import onnx_export  # noqa: E402
import safetensors_io  # noqa: E402

# Image size of every reference: non-square so a swapped height/width shows.
HEIGHT, WIDTH = 64, 96
STEPS = 4
GUIDANCE = 5.0
PROMPT = "a photo of a red fox in the snow"
NEGATIVE = "blurry low quality"
WORDS = [
    "a", "an", "the", "of", "in", "on", "photo", "painting", "red", "blue", "fox", "cat", "snow",
    "forest", "blurry", "low", "quality", "sharp", "with", "and", "sky", "night",
]

UNET_CONFIG = dict(
    # diffusers' tiny SDXL test UNet (tests/pipelines/stable_diffusion_xl) with wider blocks
    # so GroupNorm has several channels per group, as in the real model.
    sample_size=32,
    in_channels=4,
    out_channels=4,
    block_out_channels=(16, 32),
    layers_per_block=2,
    down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
    up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
    attention_head_dim=(2, 4),
    use_linear_projection=True,
    addition_embed_type="text_time",
    addition_time_embed_dim=8,
    transformer_layers_per_block=(1, 2),
    projection_class_embeddings_input_dim=80,  # 6 time ids * 8 + text_encoder_2's projection_dim 32
    cross_attention_dim=64,  # text_encoder hidden 24 + text_encoder_2 hidden 40
    norm_num_groups=8,
)
VAE_CONFIG = dict(
    # four blocks, so the VAE scale factor is 8 as in SDXL's
    in_channels=3,
    out_channels=3,
    down_block_types=["DownEncoderBlock2D"] * 4,
    up_block_types=["UpDecoderBlock2D"] * 4,
    block_out_channels=[8, 16, 16, 16],
    layers_per_block=1,
    latent_channels=4,
    norm_num_groups=4,
    sample_size=64,
    scaling_factor=0.13025,
    force_upcast=True,
)
SCHEDULER_CONFIG = dict(
    # stabilityai/stable-diffusion-xl-base-1.0's scheduler_config.json, less the keys
    # EulerDiscreteScheduler's constructor does not take (from_config drops them)
    beta_start=0.00085,
    beta_end=0.012,
    beta_schedule="scaled_linear",
    interpolation_type="linear",
    num_train_timesteps=1000,
    prediction_type="epsilon",
    steps_offset=1,
    timestep_spacing="leading",
    trained_betas=None,
    use_karras_sigmas=False,
)


def text_encoder_configs(vocab_size, eos_id, bos_id, pad_id):
    common = dict(vocab_size=vocab_size, max_position_embeddings=77, layer_norm_eps=1e-5, eos_token_id=eos_id, bos_token_id=bos_id)
    one = clip_text.CLIPTextConfig(hidden_size=24, intermediate_size=37, num_hidden_layers=3, num_attention_heads=4,
                                   hidden_act="quick_gelu", projection_dim=24, pad_token_id=pad_id, **common)
    two = clip_text.CLIPTextConfig(hidden_size=40, intermediate_size=53, num_hidden_layers=4, num_attention_heads=4,
                                   hidden_act="gelu", projection_dim=32, pad_token_id=pad_id, **common)
    return one, two


# ------------------------------------------------------------------ writing


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")


def save_model_config(model, folder):
    """diffusers' own save_config (config.json, with _class_name and _diffusers_version)."""
    os.makedirs(folder, exist_ok=True)
    model.save_config(folder)


def save_weights(module, folder, file_name, fp16_name):
    os.makedirs(folder, exist_ok=True)
    state = {k: v for k, v in module.state_dict().items()}
    safetensors_io.save_file(state, os.path.join(folder, file_name), metadata={"format": "pt"})
    half = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    safetensors_io.save_file(half, os.path.join(folder, fp16_name), metadata={"format": "pt"})


# ------------------------------------------------------------------ references


class References:
    def __init__(self):
        self.tensors = {}
        self.notes = {}

    def add(self, name, tensor, note=None):
        tensor = torch.as_tensor(tensor).detach().cpu().contiguous()
        if tensor.dtype == torch.float64:
            tensor = tensor.float()
        self.tensors[name] = tensor
        if note:
            self.notes[name] = note

    def save(self, folder, params):
        os.makedirs(folder, exist_ok=True)
        safetensors_io.save_file(self.tensors, os.path.join(folder, "references.safetensors"))
        entries = {
            name: {"dtype": str(t.dtype).replace("torch.", ""), "shape": list(t.shape), "note": self.notes.get(name, "")}
            for name, t in sorted(self.tensors.items())
        }
        write_json(os.path.join(folder, "references.json"), {"params": params, "tensors": entries})


def seeded_image(seed, channels=3):
    """A smooth uint8 test picture (gradients plus low-frequency seeded noise), HWC."""
    g = torch.Generator().manual_seed(seed)
    y = torch.linspace(0, 1, HEIGHT)[:, None, None]
    x = torch.linspace(0, 1, WIDTH)[None, :, None]
    c = torch.arange(channels)[None, None, :].float()
    base = 0.5 + 0.35 * torch.sin(6.0 * x + 4.0 * y + 2.0 * c)
    coarse = torch.rand((1, channels, HEIGHT // 8, WIDTH // 8), generator=g)
    coarse = torch.nn.functional.interpolate(coarse, size=(HEIGHT, WIDTH), mode="bilinear", align_corners=False)[0].permute(1, 2, 0)
    value = (0.7 * base + 0.3 * coarse).clamp(0, 1)
    return (value * 255).round().to(torch.uint8)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--diffusers-git-dir", required=True, help="a diffusers git directory (bare is fine)")
    parser.add_argument("--commit", default="58eb52c080")
    parser.add_argument("--hub-git-dir", default="/work/.mirror/huggingface+huggingface_hub/repo",
                        help="a huggingface_hub git directory; diffusers imports it (no numerics)")
    parser.add_argument("--hub-commit", default="ee0a4510f")
    parser.add_argument("--out", default=OUT_DIR)
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    work = tempfile.mkdtemp(prefix="diffusers-fixtures-")
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
    import diffusers
    from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL
    from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel
    from diffusers.pipelines.stable_diffusion_xl.pipeline_stable_diffusion_xl import StableDiffusionXLPipeline
    from diffusers.pipelines.stable_diffusion_xl.pipeline_stable_diffusion_xl_img2img import StableDiffusionXLImg2ImgPipeline
    from diffusers.pipelines.stable_diffusion_xl.pipeline_stable_diffusion_xl_inpaint import StableDiffusionXLInpaintPipeline
    from diffusers.schedulers.scheduling_euler_discrete import EulerDiscreteScheduler
    from PIL import Image

    if os.path.exists(out):
        shutil.rmtree(out)
    repo = os.path.join(out, "repo")
    variants = os.path.join(out, "variants")

    # ---- models (each seeded on its own, so one change leaves the others' weights alone)
    torch.manual_seed(0)
    unet = UNet2DConditionModel(**UNET_CONFIG).eval()
    torch.manual_seed(1)
    vae = AutoencoderKL(**VAE_CONFIG).eval()
    scheduler = EulerDiscreteScheduler(**SCHEDULER_CONFIG)
    tokenizer = clip_text.TinyClipTokenizer(WORDS, pad_token=clip_text.EOS)
    tokenizer_2 = clip_text.TinyClipTokenizer(WORDS, pad_token="!")  # SDXL's tokenizer_2 pads with "!"
    te_config, te2_config = text_encoder_configs(len(tokenizer.vocab), tokenizer.eos_token_id, tokenizer.bos_token_id, tokenizer.pad_token_id)
    text_encoder = clip_text.CLIPTextModel(te_config).eval()
    text_encoder._init_weights(2)
    text_encoder_2 = clip_text.CLIPTextModelWithProjection(te2_config).eval()
    text_encoder_2._init_weights(3)

    # ---- diffusers-format repo (stabilityai layout: ONNX beside the weights)
    write_json(os.path.join(repo, "model_index.json"), {
        "_class_name": "StableDiffusionXLPipeline",
        "_diffusers_version": diffusers.__version__,
        "feature_extractor": [None, None],
        "force_zeros_for_empty_prompt": True,
        "image_encoder": [None, None],
        "scheduler": ["diffusers", "EulerDiscreteScheduler"],
        "text_encoder": ["transformers", "CLIPTextModel"],
        "text_encoder_2": ["transformers", "CLIPTextModelWithProjection"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "tokenizer_2": ["transformers", "CLIPTokenizer"],
        "unet": ["diffusers", "UNet2DConditionModel"],
        "vae": ["diffusers", "AutoencoderKL"],
    })
    os.makedirs(os.path.join(repo, "scheduler"), exist_ok=True)
    scheduler.save_config(os.path.join(repo, "scheduler"))
    tokenizer.save(os.path.join(repo, "tokenizer"))
    tokenizer_2.save(os.path.join(repo, "tokenizer_2"))
    for name, model, arch in (("text_encoder", text_encoder, "CLIPTextModel"), ("text_encoder_2", text_encoder_2, "CLIPTextModelWithProjection")):
        folder = os.path.join(repo, name)
        write_json(os.path.join(folder, "config.json"), model.config.to_dict(arch))
        save_weights(model, folder, "model.safetensors", "model.fp16.safetensors")
    for name, model in (("unet", unet), ("vae", vae)):
        folder = os.path.join(repo, name)
        save_model_config(model, folder)
        save_weights(model, folder, "diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors")

    # ---- ONNX exports, Optimum naming
    onnx_export.export_text_encoder(text_encoder, os.path.join(repo, "text_encoder", "model.onnx"), id_dtype=torch.int32)
    onnx_export.export_text_encoder(text_encoder_2, os.path.join(repo, "text_encoder_2", "model.onnx"), id_dtype=torch.int64,
                                    external_data="model.onnx_data")
    unet_weights = onnx_export.export_unet(unet, os.path.join(repo, "unet", "model.onnx"), timestep="int64-batch",
                                           external_data="model.onnx_data")
    onnx_export.export_unet(unet, os.path.join(variants, "unet-float-timestep", "model.onnx"), timestep="float-scalar",
                            external_data="model.onnx_data", share_external_with=unet_weights)
    for half in ("vae_decoder", "vae_encoder"):
        save_model_config(vae, os.path.join(repo, half))
    onnx_export.export_vae_decoder(vae, os.path.join(repo, "vae_decoder", "model.onnx"))
    onnx_export.export_vae_encoder(vae, os.path.join(repo, "vae_encoder", "model.onnx"), output="latent_parameters")
    onnx_export.export_vae_encoder(vae, os.path.join(variants, "vae-encoder-latent-sample", "model.onnx"), output="latent_sample")
    onnx_export.to_fp16(os.path.join(variants, "unet-float-timestep", "model.onnx"), os.path.join(variants, "fp16", "unet", "model.onnx"),
                        external_dir=os.path.join(repo, "unet"))
    onnx_export.to_fp16(os.path.join(repo, "vae_decoder", "model.onnx"), os.path.join(variants, "fp16", "vae_decoder", "model.onnx"))
    onnx_export.to_fp16(os.path.join(repo, "vae_encoder", "model.onnx"), os.path.join(variants, "fp16", "vae_encoder", "model.onnx"))
    write_json(os.path.join(variants, "optimum", "model_index.json"), {
        # what Optimum's ORTStableDiffusionXLPipeline.save_pretrained writes: no vae/, the halves instead
        "_class_name": "ORTStableDiffusionXLPipeline",
        "_diffusers_version": diffusers.__version__,
        "force_zeros_for_empty_prompt": True,
        "scheduler": ["diffusers", "EulerDiscreteScheduler"],
        "text_encoder": ["optimum", "ORTModelTextEncoder"],
        "text_encoder_2": ["optimum", "ORTModelTextEncoder"],
        "tokenizer": ["transformers", "CLIPTokenizer"],
        "tokenizer_2": ["transformers", "CLIPTokenizer"],
        "unet": ["optimum", "ORTModelUnet"],
        "vae_decoder": ["optimum", "ORTModelVaeDecoder"],
        "vae_encoder": ["optimum", "ORTModelVaeEncoder"],
    })

    # ---- references, by diffusers' own code
    refs = References()
    pipe_parts = dict(vae=vae, text_encoder=text_encoder, text_encoder_2=text_encoder_2, tokenizer=tokenizer,
                      tokenizer_2=tokenizer_2, unet=unet, scheduler=scheduler)
    with torch.no_grad():
        lh, lw = HEIGHT // 8, WIDTH // 8
        g = torch.Generator().manual_seed(10)
        # one UNet call (batch 2, as with CFG)
        sample = torch.randn((2, 4, lh, lw), generator=g)
        ehs = torch.randn((2, 77, 64), generator=g)
        text_embeds = torch.randn((2, 32), generator=g)
        time_ids = torch.tensor([[HEIGHT, WIDTH, 0, 0, HEIGHT, WIDTH]] * 2, dtype=torch.float32)
        timestep = torch.tensor(751.0)
        unet_out = unet(sample, timestep, ehs, added_cond_kwargs={"text_embeds": text_embeds, "time_ids": time_ids}).sample
        for k, v in dict(sample=sample, timestep=timestep, encoder_hidden_states=ehs, text_embeds=text_embeds, time_ids=time_ids, out_sample=unet_out).items():
            refs.add(f"unet.{k}", v)

        # VAE: encode an image (as VaeImageProcessor.preprocess makes it) and decode a latent
        image_u8 = seeded_image(11)
        pil = Image.fromarray(image_u8.numpy(), "RGB")
        from diffusers.image_processor import VaeImageProcessor

        processor = VaeImageProcessor(vae_scale_factor=8)
        pixel = processor.preprocess(pil, height=HEIGHT, width=WIDTH)
        dist = vae.encode(pixel).latent_dist
        refs.add("image.uint8", image_u8, "HWC RGB input of the VAE encode, img2img and inpaint references")
        refs.add("vae.encode.sample", pixel, "VaeImageProcessor.preprocess(image)")
        refs.add("vae.encode.latent_parameters", dist.parameters, "mean and logvar, 8 channels")
        latent = torch.randn((1, 4, lh, lw), generator=g)
        refs.add("vae.decode.latent_sample", latent)
        refs.add("vae.decode.sample", vae.decode(latent).sample)

        # CLIP encoders on real prompt token ids (prompt, negative)
        ids_1 = tokenizer([PROMPT, NEGATIVE]).input_ids
        ids_2 = tokenizer_2([PROMPT, NEGATIVE]).input_ids
        refs.add("clip.tokenizer.input_ids", ids_1, f"tokenizer([{PROMPT!r}, {NEGATIVE!r}])")
        refs.add("clip.tokenizer_2.input_ids", ids_2, f"tokenizer_2([{PROMPT!r}, {NEGATIVE!r}])")
        o1 = text_encoder(ids_1, output_hidden_states=True)
        o2 = text_encoder_2(ids_2, output_hidden_states=True)
        refs.add("clip.text_encoder.hidden_states_penultimate", o1.hidden_states[-2])
        refs.add("clip.text_encoder.last_hidden_state", o1.last_hidden_state)
        refs.add("clip.text_encoder.pooler_output", o1.pooler_output)
        refs.add("clip.text_encoder_2.hidden_states_penultimate", o2.hidden_states[-2])
        refs.add("clip.text_encoder_2.last_hidden_state", o2.last_hidden_state)
        refs.add("clip.text_encoder_2.text_embeds", o2.text_embeds)

        # text2img from given embeddings and latents, 4 steps, CFG 5
        t2i = StableDiffusionXLPipeline(**pipe_parts)
        t2i.set_progress_bar_config(disable=True)
        prompt_embeds = torch.randn((1, 77, 64), generator=g)
        negative_embeds = torch.randn((1, 77, 64), generator=g)
        pooled = torch.randn((1, 32), generator=g)
        negative_pooled = torch.randn((1, 32), generator=g)
        latents = torch.randn((1, 4, lh, lw), generator=g)
        for k, v in dict(prompt_embeds=prompt_embeds, negative_prompt_embeds=negative_embeds, pooled_prompt_embeds=pooled,
                         negative_pooled_prompt_embeds=negative_pooled, latents=latents).items():
            refs.add(f"text2img.{k}", v)
        common = dict(height=HEIGHT, width=WIDTH, num_inference_steps=STEPS, guidance_scale=GUIDANCE)
        final = t2i(prompt_embeds=prompt_embeds, negative_prompt_embeds=negative_embeds, pooled_prompt_embeds=pooled,
                    negative_pooled_prompt_embeds=negative_pooled, latents=latents.clone(), output_type="latent", **common).images
        refs.add("text2img.final_latents", final)
        image = t2i(prompt_embeds=prompt_embeds, negative_prompt_embeds=negative_embeds, pooled_prompt_embeds=pooled,
                    negative_pooled_prompt_embeds=negative_pooled, latents=latents.clone(), output_type="np", **common).images
        refs.add("text2img.image_float", torch.from_numpy(image), "postprocess output_type='np', NHWC in [0, 1]")
        refs.add("text2img.image_uint8", torch.from_numpy((image * 255).round().astype("uint8")), "numpy_to_pil's rounding")

        # text2img from the prompts, through the tokenizers and both encoders
        latents_p = torch.randn((1, 4, lh, lw), generator=g)
        refs.add("text2img_prompt.latents", latents_p)
        final_p = t2i(prompt=PROMPT, negative_prompt=NEGATIVE, latents=latents_p.clone(), output_type="latent", **common).images
        refs.add("text2img_prompt.final_latents", final_p)
        embeds = t2i.encode_prompt(PROMPT, negative_prompt=NEGATIVE, device=torch.device("cpu"), do_classifier_free_guidance=True)
        for k, v in zip(("prompt_embeds", "negative_prompt_embeds", "pooled_prompt_embeds", "negative_pooled_prompt_embeds"), embeds):
            refs.add(f"text2img_prompt.{k}", v)

        # img2img at strength 0.5: the generator draws the encode's sample, then the noise
        i2i = StableDiffusionXLImg2ImgPipeline(**pipe_parts)
        i2i.set_progress_bar_config(disable=True)
        seed = 21
        g2 = torch.Generator().manual_seed(seed)
        encode_eps = torch.randn((1, 4, lh, lw), generator=g2)
        noise = torch.randn((1, 4, lh, lw), generator=g2)
        refs.add("img2img.encode_eps", encode_eps, f"torch.Generator().manual_seed({seed}): first draw, latent_dist.sample")
        refs.add("img2img.noise", noise, "second draw from the same generator: prepare_latents' noise")
        i2i_args = dict(prompt_embeds=prompt_embeds, negative_prompt_embeds=negative_embeds, pooled_prompt_embeds=pooled,
                        negative_pooled_prompt_embeds=negative_pooled, image=pil, strength=0.5, **common)
        final_i = i2i(generator=torch.Generator().manual_seed(seed), output_type="latent", **i2i_args).images
        refs.add("img2img.final_latents", final_i)
        image_i = i2i(generator=torch.Generator().manual_seed(seed), output_type="np", **i2i_args).images
        refs.add("img2img.image_uint8", torch.from_numpy((image_i * 255).round().astype("uint8")))

        # inpaint (4-channel UNet) at strength 0.75 with a rectangular mask
        inp = StableDiffusionXLInpaintPipeline(**pipe_parts)
        inp.set_progress_bar_config(disable=True)
        mask = torch.zeros((HEIGHT, WIDTH), dtype=torch.uint8)
        mask[16:48, 24:72] = 255
        mask_pil = Image.fromarray(mask.numpy(), "L")
        refs.add("inpaint.mask_uint8", mask, "HW, 255 = repaint")
        seed = 31
        inp_args = dict(prompt_embeds=prompt_embeds, negative_prompt_embeds=negative_embeds, pooled_prompt_embeds=pooled,
                        negative_pooled_prompt_embeds=negative_pooled, image=pil, mask_image=mask_pil, strength=0.75, **common)
        final_m = inp(generator=torch.Generator().manual_seed(seed), output_type="latent", **inp_args).images
        refs.add("inpaint.final_latents", final_m)
        image_m = inp(generator=torch.Generator().manual_seed(seed), output_type="np", **inp_args).images
        refs.add("inpaint.image_uint8", torch.from_numpy((image_m * 255).round().astype("uint8")))

    params = {
        "height": HEIGHT, "width": WIDTH, "num_inference_steps": STEPS, "guidance_scale": GUIDANCE,
        "prompt": PROMPT, "negative_prompt": NEGATIVE, "unet.timestep": 751.0,
        "img2img": {"strength": 0.5, "seed": 21}, "inpaint": {"strength": 0.75, "seed": 31, "mask_box_yx": [16, 48, 24, 72]},
        "text2img_note": "latents given; no generator is drawn from",
    }
    refs.save(os.path.join(out, "references"), params)
    write_manifest(out, commit)


def write_manifest(out, commit):
    import onnx
    import PIL

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
        "onnx": onnx.__version__,
        "numpy": np.__version__,
        "pillow": PIL.__version__,
        "script": "tools/reference/diffusers-fixtures/make_sdxl_fixtures.py",
        "files": dict(sorted(files.items())),
    })


if __name__ == "__main__":
    main()
