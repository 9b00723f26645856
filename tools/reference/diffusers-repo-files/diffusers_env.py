"""Puts diffusers (pinned source) and huggingface_hub (source) on sys.path beside the stubs in ./stubs,
so `import diffusers` works with Debian's torch 1.13 and without transformers/safetensors/tokenizers.

DIFFUSERS_SRC: a folder holding diffusers' src/ (git archive 58eb52c080 src/diffusers)
HUGGINGFACE_HUB_SRC: a folder holding huggingface_hub's src/
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [
    os.path.join(os.environ.get('DIFFUSERS_SRC', '/tmp/diffusers-src'), 'src'),
    os.path.join(os.environ.get('HUGGINGFACE_HUB_SRC', '/tmp/i18py'), 'src'),
    os.path.join(HERE, 'stubs'),
]
import torch_compat  # noqa: E402,F401  (patches torch 1.13 with names diffusers touches at import)


# diffusers.pipelines.auto_pipeline imports every pipeline of the zoo (several need torch >= 2) only to map a
# pipeline class name to its model name; from_pretrained of a standard SDXL folder needs just this one entry
# of its mapping (AUTO_TEXT2IMAGE_PIPELINES_MAPPING["stable-diffusion-xl"] = StableDiffusionXLPipeline).
import types  # noqa: E402

_auto = types.ModuleType('diffusers.pipelines.auto_pipeline')
_auto._get_model = lambda name: {'StableDiffusionXLPipeline': 'stable-diffusion-xl'}.get(name)
sys.modules['diffusers.pipelines.auto_pipeline'] = _auto
