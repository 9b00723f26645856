"""A faithful torch version of transformers' CLIPTextModel and CLIPTextModelWithProjection
(models/clip/modeling_clip.py): same module tree, so the same state-dict names, and the same
forward (causal mask, final layer norm, pooled at the EOS position, hidden states before the
final norm). transformers is not installed here."""
import math

import torch
from torch import nn


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


ACTIVATIONS = {'quick_gelu': quick_gelu, 'gelu': nn.functional.gelu}


class CLIPTextEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.token_embedding = nn.Embedding(c['vocab_size'], c['hidden_size'])
        self.position_embedding = nn.Embedding(c['max_position_embeddings'], c['hidden_size'])
        self.register_buffer('position_ids', torch.arange(c['max_position_embeddings']).expand((1, -1)), persistent=False)

    def forward(self, input_ids):
        positions = self.position_ids[:, : input_ids.shape[-1]]
        return self.token_embedding(input_ids) + self.position_embedding(positions)


class CLIPAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_dim = c['hidden_size']
        self.num_heads = c['num_attention_heads']
        self.head_dim = self.embed_dim // self.num_heads
        self.scale = self.head_dim ** -0.5
        self.k_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.v_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.q_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.out_proj = nn.Linear(self.embed_dim, self.embed_dim)

    def forward(self, x, causal_mask):
        b, s, d = x.shape
        shape = lambda t: t.view(b, s, self.num_heads, self.head_dim).transpose(1, 2)
        q, k, v = shape(self.q_proj(x)), shape(self.k_proj(x)), shape(self.v_proj(x))
        weights = torch.matmul(q, k.transpose(2, 3)) * self.scale + causal_mask
        weights = nn.functional.softmax(weights, dim=-1)
        out = torch.matmul(weights, v).transpose(1, 2).reshape(b, s, d)
        return self.out_proj(out)


class CLIPMLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.activation_fn = ACTIVATIONS[c['hidden_act']]
        self.fc1 = nn.Linear(c['hidden_size'], c['intermediate_size'])
        self.fc2 = nn.Linear(c['intermediate_size'], c['hidden_size'])

    def forward(self, x):
        return self.fc2(self.activation_fn(self.fc1(x)))


class CLIPEncoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self_attn = CLIPAttention(c)
        self.layer_norm1 = nn.LayerNorm(c['hidden_size'], eps=c['layer_norm_eps'])
        self.mlp = CLIPMLP(c)
        self.layer_norm2 = nn.LayerNorm(c['hidden_size'], eps=c['layer_norm_eps'])

    def forward(self, x, causal_mask):
        x = x + self.self_attn(self.layer_norm1(x), causal_mask)
        return x + self.mlp(self.layer_norm2(x))


class CLIPEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layers = nn.ModuleList([CLIPEncoderLayer(c) for _ in range(c['num_hidden_layers'])])


class CLIPTextTransformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.embeddings = CLIPTextEmbeddings(c)
        self.encoder = CLIPEncoder(c)
        self.final_layer_norm = nn.LayerNorm(c['hidden_size'], eps=c['layer_norm_eps'])

    def forward(self, input_ids):
        x = self.embeddings(input_ids)
        s = input_ids.shape[-1]
        mask = torch.full((s, s), torch.finfo(x.dtype).min).triu(1)[None, None]
        hidden_states = [x]
        for layer in self.encoder.layers:
            x = layer(x, mask)
            hidden_states.append(x)
        last = self.final_layer_norm(x)
        rows = torch.arange(last.shape[0])
        eos = self.config.get('eos_token_id', 2)
        if eos == 2:
            # transformers' legacy rule for configs saved with eos_token_id 2: the EOS token has the largest id.
            positions = input_ids.to(torch.int).argmax(dim=-1)
        else:
            positions = (input_ids.to(torch.int) == eos).int().argmax(dim=-1)
        return last, last[rows, positions], hidden_states


class CLIPTextModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.text_model = CLIPTextTransformer(c)

    def forward(self, input_ids):
        last, pooled, hidden = self.text_model(input_ids)
        return {'last_hidden_state': last, 'pooler_output': pooled, 'hidden_states': hidden}


class CLIPTextModelWithProjection(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.text_model = CLIPTextTransformer(c)
        self.text_projection = nn.Linear(c['hidden_size'], c['projection_dim'], bias=False)

    def forward(self, input_ids):
        last, pooled, hidden = self.text_model(input_ids)
        return {'text_embeds': self.text_projection(pooled), 'last_hidden_state': last, 'hidden_states': hidden}


def init_random(model, seed):
    """Random weights large enough that every layer matters (torch's default init makes deep
    layers near-identity at this width)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if 'norm' in name:
                p.copy_((1 if name.endswith('weight') else 0) + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(p.shape[-1]))
