"""Imports diffusers' UNet2DConditionModel and AutoencoderKL from the pinned source
with Debian's torch 1.13: stubs the few names diffusers touches at import time
that this torch or the missing packages (safetensors, transformers) lack."""
import os
import sys
import types

DIFFUSERS_SRC = os.environ.get('DIFFUSERS_SRC', '/tmp/i16/src')
HUB_SRC = os.environ.get('HUGGINGFACE_HUB_SRC', '/tmp/i16/hh/src')
STUBS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'stubs')
sys.path[:0] = [DIFFUSERS_SRC, HUB_SRC, STUBS]

import torch  # noqa: E402

for name in ['xpu', 'mps', 'mtia']:
    if not hasattr(torch, name):
        setattr(torch, name, types.SimpleNamespace(
            empty_cache=lambda: None, device_count=lambda: 0, is_available=lambda: False,
            manual_seed=lambda *a: None, reset_peak_memory_stats=lambda *a: None,
            max_memory_allocated=lambda *a: 0, synchronize=lambda *a: None))
for name in ['float8_e4m3fn', 'float8_e5m2', 'uint16', 'uint32', 'uint64', 'float8_e8m0fnu', 'float4_e2m1fn_x2']:
    if not hasattr(torch, name):
        setattr(torch, name, torch.float16)
import torch.distributed as _dist  # noqa: E402
if not hasattr(_dist, 'device_mesh'):
    _dist.device_mesh = types.SimpleNamespace(DeviceMesh=type('DeviceMesh', (), {}))
sys.modules.setdefault('torch.distributed._functional_collectives', types.ModuleType('torch.distributed._functional_collectives'))
if not hasattr(torch, 'compiler'):
    torch.compiler = types.SimpleNamespace(disable=lambda f=None, **k: (f if f else (lambda g: g)),
                                           is_compiling=lambda: False, is_dynamo_compiling=lambda: False)

import diffusers  # noqa: E402,F401
# The model packages' __init__ files import every model (some need torch >= 2); load only the submodules used.
for pkg in ['diffusers.models', 'diffusers.models.transformers', 'diffusers.models.unets', 'diffusers.models.autoencoders']:
    module = types.ModuleType(pkg)
    module.__path__ = [os.path.join(DIFFUSERS_SRC, *pkg.split('.'))]
    sys.modules[pkg] = module

from diffusers.models.unets.unet_2d_condition import UNet2DConditionModel  # noqa: E402,F401
from diffusers.models.autoencoders.autoencoder_kl import AutoencoderKL  # noqa: E402,F401
