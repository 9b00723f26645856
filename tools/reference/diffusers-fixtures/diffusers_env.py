"""Makes diffusers' source importable on Debian's torch 1.13 without PyPI.

diffusers at the pinned commit targets newer torch and imports optional libraries at module
level. Nothing here changes numerics: the stubs stand in for names diffusers only imports
(float8 dtypes, XPU/MPS cache hooks, torch.distributed's newer modules, the safetensors
package) and for the package `__init__` files that eagerly import every model in diffusers.
The modules that compute (UNet2DConditionModel, AutoencoderKL, EulerDiscreteScheduler, the
SDXL pipelines, VaeImageProcessor) are diffusers' own files, loaded unchanged.
"""

import importlib
import importlib.machinery
import os
import subprocess
import sys
import tarfile
import io
import types

import torch


def extract_sources(git_dir, commit, dest, path):
    """`git archive` `path` at `commit` into `dest`; returns dest/src."""
    os.makedirs(dest, exist_ok=True)
    data = subprocess.run(["git", "--git-dir", git_dir, "archive", commit, path], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest)
    return os.path.join(dest, "src")


def resolve_commit(git_dir, commit):
    """The full hash of `commit`, for the manifest."""
    return subprocess.run(["git", "--git-dir", git_dir, "rev-parse", commit + "^{commit}"], check=True, capture_output=True, text=True).stdout.strip()


def _module(name, path=None, **attrs):
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=path is not None)
    if path is not None:
        module.__path__ = [path]
    for key, value in attrs.items():
        setattr(module, key, value)
    sys.modules[name] = module
    return module


def _patch_torch():
    noop = lambda *a, **k: None  # noqa: E731
    zero = lambda *a, **k: 0  # noqa: E731
    no = lambda *a, **k: False  # noqa: E731
    if not hasattr(torch, "xpu"):
        torch.xpu = types.SimpleNamespace(
            empty_cache=noop, device_count=zero, manual_seed=noop, reset_peak_memory_stats=noop,
            max_memory_allocated=zero, synchronize=noop, is_available=no,
        )
    if not hasattr(torch, "mps") or not hasattr(torch.mps, "empty_cache"):
        torch.mps = types.SimpleNamespace(empty_cache=noop, manual_seed=noop, device_count=zero, synchronize=noop)
    if not hasattr(torch, "compiler"):
        # decorators diffusers' hooks apply at class definition; eager torch needs none
        torch.compiler = types.SimpleNamespace(disable=lambda fn=None, **k: fn if fn else (lambda f: f), is_compiling=no)
    for name in ("float8_e4m3fn", "float8_e5m2"):
        if not hasattr(torch, name):
            setattr(torch, name, object())  # only used as dict keys by the quantizers
    import torch.distributed as dist

    if not hasattr(dist, "device_mesh"):
        dist.device_mesh = types.SimpleNamespace(DeviceMesh=type("DeviceMesh", (), {}))
    _module("torch.distributed._functional_collectives")


def _stub_safetensors():
    # diffusers imports `safetensors` at module level; the fixtures are written by
    # safetensors_io.py, so these functions are never called.
    def unused(*_a, **_k):
        raise RuntimeError("safetensors is not installed; use safetensors_io")

    package = _module("safetensors", None, safe_open=unused)
    package.torch = _module("safetensors.torch", None, save_file=unused, load_file=unused, load=unused)


def _lazy_package(name, directory, names):
    """A package whose `__init__` is not run: attribute `X` imports submodule `names[X]`."""

    def __getattr__(attr):
        if attr in names:
            return getattr(importlib.import_module(name + "." + names[attr]), attr)
        raise AttributeError(f"module {name!r} stub has no attribute {attr!r}")

    _module(name, directory, __getattr__=__getattr__)


def _stub_transformers():
    """The names diffusers' SDXL pipelines import from transformers, backed by clip_text.py."""
    import clip_text

    class _Unused:
        def __init__(self, *a, **k):
            raise RuntimeError("not part of the fixtures")

    names = dict(
        CLIPTextModel=clip_text.CLIPTextModel,
        CLIPTextModelWithProjection=clip_text.CLIPTextModelWithProjection,
        CLIPTokenizer=clip_text.TinyClipTokenizer,
        CLIPTextConfig=clip_text.CLIPTextConfig,
        CLIPImageProcessor=type("CLIPImageProcessor", (_Unused,), {}),
        CLIPVisionModelWithProjection=type("CLIPVisionModelWithProjection", (_Unused,), {}),
        PreTrainedModel=type("PreTrainedModel", (_Unused,), {}),
        __version__="4.57.0",
    )
    _module("transformers", None, **names)


def setup(src_dir):
    """Put diffusers' source at `src_dir` on sys.path with the shims above."""
    _patch_torch()
    _stub_safetensors()
    _stub_transformers()
    sys.path.insert(0, src_dir)
    root = os.path.join(src_dir, "diffusers")
    import diffusers  # noqa: F401  (the top-level package is lazy: imports nothing heavy)

    # The SDXL pipelines inherit these loader mixins (single-file, LoRA, textual inversion,
    # IP-Adapter loading); the fixtures use none of them, and the real modules need
    # transformers and peft. Empty mixins keep the pipelines' own code paths unchanged.
    import diffusers.loaders as loaders

    for name in ("FromSingleFileMixin", "IPAdapterMixin", "StableDiffusionXLLoraLoaderMixin"):
        setattr(loaders, name, type(name, (), {}))
    # With no textual-inversion embeddings loaded, the real maybe_convert_prompt returns the
    # prompt as it is (it only expands multi-vector tokens it finds in the tokenizer).
    loaders.TextualInversionLoaderMixin = type(
        "TextualInversionLoaderMixin", (), {"maybe_convert_prompt": lambda self, prompt, tokenizer: prompt}
    )
    _lazy_package("diffusers.models.unets", os.path.join(root, "models", "unets"), {
        "UNet2DConditionModel": "unet_2d_condition",
    })
    _lazy_package("diffusers.models.transformers", os.path.join(root, "models", "transformers"), {
        "Transformer2DModel": "transformer_2d",
        "DualTransformer2DModel": "dual_transformer_2d",
    })
    _lazy_package("diffusers.models.autoencoders", os.path.join(root, "models", "autoencoders"), {
        "AutoencoderKL": "autoencoder_kl",
    })
