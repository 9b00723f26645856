"""Per-class fixtures for @modular-diffusers/model-builder's parity tests.

For each tiny random-weight model: its diffusers-format folder (config.json, float32 safetensors
and the *.fp16.safetensors variant), an ONNX export with Optimum's input/output names made by
torch.onnx.export from the same weights, and reference.safetensors: the inputs and the outputs
that diffusers' own UNet2DConditionModel / AutoencoderKL (and a faithful transformers CLIP,
clip_text.py) compute for them in float32. reference.fp16.safetensors holds the outputs of the
same model with its weights rounded to float16 and the arithmetic kept in float32, which is what
the builder runs for an fp16 variant on CPU.

Run: /usr/bin/python3 tools/reference/model-builder/make_fixtures.py [out_dir]
(default packages/model-builder/fixtures). Needs the diffusers and huggingface_hub sources
unpacked (see diffusers_env.py); CI never runs this, the outputs are committed.
"""
import copy
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import diffusers_env  # noqa: E402
from diffusers_env import AutoencoderKL, UNet2DConditionModel  # noqa: E402
import torch  # noqa: E402
from clip_text import CLIPTextModel, CLIPTextModelWithProjection, init_random  # noqa: E402
from safetensors_io import save_safetensors  # noqa: E402

ROOT = os.path.abspath(os.path.join(HERE, '..', '..', '..'))
OUT = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, 'packages', 'model-builder', 'fixtures')

torch.set_grad_enabled(False)


def randomize(model, seed):
    """Weights whose scale keeps activations O(1) through the whole net, with non-trivial norms."""
    g = torch.Generator().manual_seed(seed)
    for name, p in model.named_parameters():
        if 'norm' in name and p.ndim == 1:
            p.copy_((1 if name.endswith('weight') else 0) + 0.1 * torch.randn(p.shape, generator=g))
        elif name.endswith('bias'):
            p.copy_(0.05 * torch.randn(p.shape, generator=g))
        else:
            fan_in = p[0].numel() if p.ndim > 1 else p.shape[0]
            p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))


def fp16_rounded(model):
    rounded = copy.deepcopy(model)
    for p in rounded.parameters():
        p.copy_(p.half().float())
    return rounded


def write_folder(folder, state_dict, weights_name, config):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write('\n')
    tensors = {k: v for k, v in state_dict.items()}
    save_safetensors(tensors, os.path.join(folder, f'{weights_name}.safetensors'), {'format': 'pt'})
    half = {k: (v.half() if v.is_floating_point() else v) for k, v in tensors.items()}
    save_safetensors(half, os.path.join(folder, f'{weights_name}.fp16.safetensors'), {'format': 'pt'})


def diffusers_config(model, class_name):
    config = {k: (list(v) if isinstance(v, tuple) else v) for k, v in dict(model.config).items() if not k.startswith('_')}
    config['_class_name'] = class_name
    config['_diffusers_version'] = '0.36.0.dev0'
    return config


def export(module, args, path, input_names, output_names, dynamic_axes=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    torch.onnx.export(module, args, path, input_names=input_names, output_names=output_names,
                      opset_version=17, do_constant_folding=True, dynamic_axes=dynamic_axes)


# ---- CLIP text encoders -------------------------------------------------------------------

def clip_case(name, cls, config, seed, ids):
    model = cls(config).eval()
    init_random(model, seed)
    folder = os.path.join(OUT, name)
    class_name = cls.__name__
    hf_config = dict(config, architectures=[class_name], model_type='clip_text_model', torch_dtype='float32')
    state = dict(model.state_dict())
    if name == 'clip-text':
        # Older transformers saved the position_ids buffer; real SDXL text encoders carry it. The builder must skip it.
        state['text_model.embeddings.position_ids'] = model.text_model.embeddings.position_ids.clone()
    write_folder(folder, state, 'model', hf_config)

    def outputs(m):
        out = m(ids)
        pooled = 'pooler_output' if 'pooler_output' in out else 'text_embeds'
        result = {'output.last_hidden_state': out['last_hidden_state'], f'output.{pooled}': out[pooled]}
        for i, h in enumerate(out['hidden_states']):
            result[f'output.hidden_states.{i}'] = h
        return result

    save_safetensors({'input.input_ids': ids, **outputs(model)}, os.path.join(folder, 'reference.safetensors'))
    save_safetensors({'input.input_ids': ids, **outputs(fp16_rounded(model))}, os.path.join(folder, 'reference.fp16.safetensors'))

    class Export(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids):
            out = self.inner(input_ids)
            pooled = out['pooler_output'] if 'pooler_output' in out else out['text_embeds']
            return (pooled, out['last_hidden_state'], *out['hidden_states'])

    pooled_name = 'pooler_output' if cls is CLIPTextModel else 'text_embeds'
    first = [pooled_name, 'last_hidden_state'] if cls is CLIPTextModel else ['text_embeds', 'last_hidden_state']
    names = first + [f'hidden_states.{i}' for i in range(config['num_hidden_layers'] + 1)]
    export(Export(model), (ids,), os.path.join(folder, 'export', 'model.onnx'), ['input_ids'], names,
           {'input_ids': {0: 'batch_size'}})


CLIP_BASE = dict(vocab_size=1000, hidden_size=32, intermediate_size=37, num_hidden_layers=3, num_attention_heads=4,
                 max_position_embeddings=77, layer_norm_eps=1e-5, bos_token_id=0, pad_token_id=1, eos_token_id=2,
                 initializer_range=0.02, initializer_factor=1.0, attention_dropout=0.0, dropout=0.0)


def token_ids(seed, eos, pad):
    g = torch.Generator().manual_seed(seed)
    ids = torch.full((2, 77), pad, dtype=torch.int64)
    for row, length in enumerate([9, 23]):
        ids[row, 0] = 998 if eos == 999 else 0
        ids[row, 1:length - 1] = torch.randint(3, 990, (length - 2,), generator=g)
        ids[row, length - 1] = eos
    return ids


# ---- UNet ---------------------------------------------------------------------------------

UNET_SDXL = dict(
    sample_size=16, in_channels=4, out_channels=4, center_input_sample=False, flip_sin_to_cos=True, freq_shift=0,
    down_block_types=['DownBlock2D', 'CrossAttnDownBlock2D', 'CrossAttnDownBlock2D'],
    mid_block_type='UNetMidBlock2DCrossAttn',
    up_block_types=['CrossAttnUpBlock2D', 'CrossAttnUpBlock2D', 'UpBlock2D'],
    only_cross_attention=False, block_out_channels=[16, 32, 32], layers_per_block=2, downsample_padding=1,
    mid_block_scale_factor=1, act_fn='silu', norm_num_groups=8, norm_eps=1e-5, cross_attention_dim=32,
    transformer_layers_per_block=[1, 1, 2], attention_head_dim=[2, 4, 4], use_linear_projection=True,
    addition_embed_type='text_time', addition_time_embed_dim=8, projection_class_embeddings_input_dim=8 * 6 + 32,
    upcast_attention=False, resnet_time_scale_shift='default',
)
# An SD-1.5-shaped UNet: convolution projections, one head count, upcast attention, no added embeddings.
UNET_CONV = dict(
    sample_size=8, in_channels=4, out_channels=4, flip_sin_to_cos=True, freq_shift=0,
    down_block_types=['CrossAttnDownBlock2D', 'DownBlock2D'], up_block_types=['UpBlock2D', 'CrossAttnUpBlock2D'],
    block_out_channels=[16, 24], layers_per_block=1, norm_num_groups=8, cross_attention_dim=24,
    attention_head_dim=8, use_linear_projection=False, upcast_attention=True, transformer_layers_per_block=1,
)


def unet_case(name, config, seed, text_dim, batch=2, seq=77):
    model = UNet2DConditionModel(**config).eval()
    randomize(model, seed)
    folder = os.path.join(OUT, name)
    write_folder(folder, model.state_dict(), 'diffusion_pytorch_model', diffusers_config(model, 'UNet2DConditionModel'))
    g = torch.Generator().manual_seed(seed + 1)
    size = config['sample_size']
    inputs = {
        'sample': torch.randn((batch, config['in_channels'], size, size), generator=g),
        'timestep': torch.tensor([999.0, 421.5][:batch]),
        'encoder_hidden_states': torch.randn((batch, seq, config['cross_attention_dim']), generator=g),
    }
    if config.get('addition_embed_type') == 'text_time':
        inputs['text_embeds'] = torch.randn((batch, text_dim), generator=g)
        inputs['time_ids'] = torch.tensor([[1024.0, 1024.0, 0.0, 0.0, 1024.0, 1024.0], [768.0, 512.0, 16.0, 32.0, 768.0, 512.0]][:batch])

    def run(m):
        added = {'text_embeds': inputs['text_embeds'], 'time_ids': inputs['time_ids']} if 'text_embeds' in inputs else None
        return m(inputs['sample'], inputs['timestep'], inputs['encoder_hidden_states'], added_cond_kwargs=added).sample

    refs = {f'input.{k}': v for k, v in inputs.items()}
    save_safetensors({**refs, 'output.out_sample': run(model)}, os.path.join(folder, 'reference.safetensors'))
    save_safetensors({**refs, 'output.out_sample': run(fp16_rounded(model))}, os.path.join(folder, 'reference.fp16.safetensors'))

    class Export(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, sample, timestep, encoder_hidden_states, text_embeds=None, time_ids=None):
            added = {'text_embeds': text_embeds, 'time_ids': time_ids} if text_embeds is not None else None
            return self.inner(sample, timestep, encoder_hidden_states, added_cond_kwargs=added).sample

    names = list(inputs)
    export(Export(model), tuple(inputs[k] for k in names), os.path.join(folder, 'export', 'model.onnx'), names, ['out_sample'])


def unet_controlnet_case(name, config, seed, text_dim, batch=2, seq=77):
    """The same UNet as unet_case(name) (same seed, same weights) called with ControlNet residuals:
    reference.controlnet.safetensors beside the other references; no other file is rewritten."""
    model = UNet2DConditionModel(**config).eval()
    randomize(model, seed)
    folder = os.path.join(OUT, name)
    g = torch.Generator().manual_seed(seed + 2)
    size = config['sample_size']
    inputs = {
        'sample': torch.randn((batch, config['in_channels'], size, size), generator=g),
        'timestep': torch.tensor([999.0, 421.5][:batch]),
        'encoder_hidden_states': torch.randn((batch, seq, config['cross_attention_dim']), generator=g),
        'text_embeds': torch.randn((batch, text_dim), generator=g),
        'time_ids': torch.tensor([[1024.0, 1024.0, 0.0, 0.0, 1024.0, 1024.0], [768.0, 512.0, 16.0, 32.0, 768.0, 512.0]][:batch]),
    }
    channels = config['block_out_channels']
    shapes = [(channels[0], size)]
    h = size
    for i, c in enumerate(channels):
        shapes += [(c, h)] * config['layers_per_block']
        if i < len(channels) - 1:
            h //= 2
            shapes.append((c, h))
    down = [0.5 * torch.randn((batch, c, s, s), generator=g) for c, s in shapes]
    mid = 0.5 * torch.randn((batch, channels[-1], h, h), generator=g)
    out = model(inputs['sample'], inputs['timestep'], inputs['encoder_hidden_states'],
                added_cond_kwargs={'text_embeds': inputs['text_embeds'], 'time_ids': inputs['time_ids']},
                down_block_additional_residuals=tuple(down), mid_block_additional_residual=mid).sample
    refs = {f'input.{k}': v for k, v in inputs.items()}
    refs.update({f'input.down_block_additional_residual_{i}': t for i, t in enumerate(down)})
    refs['input.mid_block_additional_residual'] = mid
    save_safetensors({**refs, 'output.out_sample': out}, os.path.join(folder, 'reference.controlnet.safetensors'))


# ---- VAE ----------------------------------------------------------------------------------

VAE = dict(in_channels=3, out_channels=3, down_block_types=['DownEncoderBlock2D', 'DownEncoderBlock2D'],
           up_block_types=['UpDecoderBlock2D', 'UpDecoderBlock2D'], block_out_channels=[16, 32], layers_per_block=1,
           act_fn='silu', latent_channels=4, norm_num_groups=8, sample_size=32, scaling_factor=0.13025, force_upcast=True)


def vae_case(name, config, seed):
    model = AutoencoderKL(**config).eval()
    randomize(model, seed)
    folder = os.path.join(OUT, name)
    write_folder(folder, model.state_dict(), 'diffusion_pytorch_model', diffusers_config(model, 'AutoencoderKL'))
    g = torch.Generator().manual_seed(seed + 1)
    image = torch.rand((1, 3, 32, 32), generator=g) * 2 - 1
    latents = torch.randn((2, 4, 4, 4), generator=g)

    def run(m):
        return m.encode(image).latent_dist.parameters, m.decode(latents).sample

    params, decoded = run(model)
    refs = {'input.sample': image, 'input.latent_sample': latents}
    save_safetensors({**refs, 'output.latent_parameters': params, 'output.sample': decoded}, os.path.join(folder, 'reference.safetensors'))
    params16, decoded16 = run(fp16_rounded(model))
    save_safetensors({**refs, 'output.latent_parameters': params16, 'output.sample': decoded16}, os.path.join(folder, 'reference.fp16.safetensors'))

    class Encoder(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, sample):
            return self.inner.encode(sample).latent_dist.parameters

    class Decoder(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, latent_sample):
            return self.inner.decode(latent_sample).sample

    export(Encoder(model), (image,), os.path.join(folder, 'export', 'vae_encoder', 'model.onnx'), ['sample'], ['latent_parameters'])
    export(Decoder(model), (latents,), os.path.join(folder, 'export', 'vae_decoder', 'model.onnx'), ['latent_sample'], ['sample'])


if __name__ == '__main__':
    only = set(os.environ.get('ONLY', '').split(',')) - {''}
    cases = {
        'clip-text': lambda: clip_case('clip-text', CLIPTextModel, dict(CLIP_BASE, hidden_act='quick_gelu'), 11, token_ids(1, 2, 1)),
        'clip-text-projection': lambda: clip_case('clip-text-projection', CLIPTextModelWithProjection,
                                                  dict(CLIP_BASE, hidden_act='gelu', projection_dim=16, eos_token_id=999, pad_token_id=5),
                                                  12, token_ids(2, 999, 5)),
        'unet-sdxl': lambda: unet_case('unet-sdxl', UNET_SDXL, 21, 32),
        'unet-sdxl-controlnet': lambda: unet_controlnet_case('unet-sdxl', UNET_SDXL, 21, 32),
        'unet-conv': lambda: unet_case('unet-conv', UNET_CONV, 22, 0, seq=11),
        'vae': lambda: vae_case('vae', VAE, 31),
    }
    for key, make in cases.items():
        if not only or key in only:
            make()
            print('wrote', key)
