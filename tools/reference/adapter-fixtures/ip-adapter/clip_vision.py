"""A faithful torch port of transformers' CLIPVisionModelWithProjection (transformers is not
installed here), for the IP-Adapter fixtures.

It follows transformers' `models/clip/modeling_clip.py`: CLIPVisionEmbeddings (a patch
convolution without bias, the class token first, learned position embeddings over
1 + patches positions), `pre_layrnorm`, the same pre-norm CLIPEncoder layers as the text
tower (imported from ../../diffusers-fixtures/clip_text.py, with no attention mask), the
class token of the last layer through `post_layernorm` as the pooled output (the
`last_hidden_state` is returned unnormalised), and `visual_projection` without bias. Its
state-dict names are transformers' own (`vision_model.embeddings.patch_embedding.weight`,
`vision_model.pre_layrnorm.weight`, `vision_model.encoder.layers.0...`,
`vision_model.post_layernorm.weight`, `visual_projection.weight`), so the safetensors
files load into transformers' class.
"""

import math
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "diffusers-fixtures"))
import clip_text  # noqa: E402


class CLIPVisionConfig:
    model_type = "clip_vision_model"

    def __init__(self, **kw):
        self.hidden_size = kw["hidden_size"]
        self.intermediate_size = kw["intermediate_size"]
        self.projection_dim = kw["projection_dim"]
        self.num_hidden_layers = kw["num_hidden_layers"]
        self.num_attention_heads = kw["num_attention_heads"]
        self.num_channels = kw.get("num_channels", 3)
        self.image_size = kw["image_size"]
        self.patch_size = kw["patch_size"]
        self.hidden_act = kw.get("hidden_act", "quick_gelu")
        self.layer_norm_eps = kw.get("layer_norm_eps", 1e-5)

    def to_dict(self):
        """config.json as transformers saves a CLIPVisionModelWithProjection's."""
        return {
            "architectures": ["CLIPVisionModelWithProjection"],
            "attention_dropout": 0.0,
            "dropout": 0.0,
            "hidden_act": self.hidden_act,
            "hidden_size": self.hidden_size,
            "image_size": self.image_size,
            "initializer_factor": 1.0,
            "initializer_range": 0.02,
            "intermediate_size": self.intermediate_size,
            "layer_norm_eps": self.layer_norm_eps,
            "model_type": self.model_type,
            "num_attention_heads": self.num_attention_heads,
            "num_channels": self.num_channels,
            "num_hidden_layers": self.num_hidden_layers,
            "patch_size": self.patch_size,
            "projection_dim": self.projection_dim,
            "torch_dtype": "float32",
        }


class CLIPVisionEmbeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.class_embedding = nn.Parameter(torch.zeros(config.hidden_size))
        self.patch_embedding = nn.Conv2d(config.num_channels, config.hidden_size, kernel_size=config.patch_size,
                                         stride=config.patch_size, bias=False)
        positions = (config.image_size // config.patch_size) ** 2 + 1
        self.position_embedding = nn.Embedding(positions, config.hidden_size)
        self.register_buffer("position_ids", torch.arange(positions).expand((1, -1)), persistent=False)
        self.image_size = config.image_size

    def forward(self, pixel_values):
        assert pixel_values.shape[-2:] == (self.image_size, self.image_size), "no position interpolation here"
        patches = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(pixel_values.shape[0], 1, -1)
        return torch.cat([cls, patches], dim=1) + self.position_embedding(self.position_ids)


class CLIPVisionTransformer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embeddings = CLIPVisionEmbeddings(config)
        self.pre_layrnorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.encoder = clip_text.CLIPEncoder(config)
        self.post_layernorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, pixel_values):
        h = self.pre_layrnorm(self.embeddings(pixel_values))
        # no mask: adding zero leaves every score as it is
        last, states = self.encoder(h, torch.zeros((), dtype=h.dtype))
        return last, self.post_layernorm(last[:, 0, :]), states


class CLIPVisionModelWithProjection(nn.Module):
    __module__ = "transformers.models.clip.modeling_clip"

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.vision_model = CLIPVisionTransformer(config)
        self.visual_projection = nn.Linear(config.hidden_size, config.projection_dim, bias=False)

    @property
    def dtype(self):
        return next(self.parameters()).dtype

    @property
    def device(self):
        return next(self.parameters()).device

    def forward(self, pixel_values, output_hidden_states=False, return_dict=True):
        last, pooled, states = self.vision_model(pixel_values)
        return clip_text.Output(
            image_embeds=self.visual_projection(pooled),
            last_hidden_state=last,
            hidden_states=states if output_hidden_states else None,
        )

    def init_weights(self, seed):
        """Seeded weights at a scale where every layer matters: norms near 1, small biases,
        matrices scaled by 1/sqrt(fan_in), embeddings of order 0.5."""
        generator = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, param in sorted(self.named_parameters()):
                if "norm" in name and name.endswith("weight"):
                    param.copy_(1.0 + 0.1 * torch.randn(param.shape, generator=generator))
                elif name.endswith("bias"):
                    param.copy_(0.05 * torch.randn(param.shape, generator=generator))
                elif "class_embedding" in name or "position_embedding" in name:
                    param.copy_(0.5 * torch.randn(param.shape, generator=generator))
                else:
                    fan_in = param[0].numel()
                    param.copy_(torch.randn(param.shape, generator=generator) / math.sqrt(fan_in))
