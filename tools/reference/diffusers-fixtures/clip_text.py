"""CLIP text encoders and tokenizer for the fixtures (transformers is not installed here).

The modules follow transformers' `models/clip/modeling_clip.py` (pre-norm encoder layers,
causal self-attention scaled by head_dim**-0.5, the embeddings' output plus every layer's
output as `hidden_states`, pooling at the first end-of-text token) and use its state-dict
names (`text_model.embeddings.token_embedding.weight`, ..., `text_projection.weight`), so
the safetensors files load into transformers' CLIPTextModel / CLIPTextModelWithProjection.

The tokenizer is CLIP's byte-level BPE restricted to what the fixtures feed it: lowercase
ASCII words separated by spaces (asserted), which CLIP's pre-tokenizer splits on whitespace.
The vocabulary is laid out as CLIP's is: 256 byte symbols, the same with `</w>`, one token
per merge, then `<|startoftext|>` and `<|endoftext|>`.
"""

import json
import math
import os
import re

import torch
from torch import nn

BOS = "<|startoftext|>"
EOS = "<|endoftext|>"
END_OF_WORD = "</w>"


# ------------------------------------------------------------------ config and outputs


class CLIPTextConfig:
    model_type = "clip_text_model"

    def __init__(self, **kw):
        self.vocab_size = kw["vocab_size"]
        self.hidden_size = kw["hidden_size"]
        self.intermediate_size = kw["intermediate_size"]
        self.projection_dim = kw.get("projection_dim", 512)
        self.num_hidden_layers = kw["num_hidden_layers"]
        self.num_attention_heads = kw["num_attention_heads"]
        self.max_position_embeddings = kw.get("max_position_embeddings", 77)
        self.hidden_act = kw.get("hidden_act", "quick_gelu")
        self.layer_norm_eps = kw.get("layer_norm_eps", 1e-5)
        self.bos_token_id = kw["bos_token_id"]
        self.eos_token_id = kw["eos_token_id"]
        self.pad_token_id = kw["pad_token_id"]
        self.initializer_range = kw.get("initializer_range", 0.02)

    def to_dict(self, architecture):
        return {
            "architectures": [architecture],
            "attention_dropout": 0.0,
            "bos_token_id": self.bos_token_id,
            "dropout": 0.0,
            "eos_token_id": self.eos_token_id,
            "hidden_act": self.hidden_act,
            "hidden_size": self.hidden_size,
            "initializer_factor": 1.0,
            "initializer_range": self.initializer_range,
            "intermediate_size": self.intermediate_size,
            "layer_norm_eps": self.layer_norm_eps,
            "max_position_embeddings": self.max_position_embeddings,
            "model_type": self.model_type,
            "num_attention_heads": self.num_attention_heads,
            "num_hidden_layers": self.num_hidden_layers,
            "pad_token_id": self.pad_token_id,
            "projection_dim": self.projection_dim,
            "torch_dtype": "float32",
            "vocab_size": self.vocab_size,
        }


class Output(dict):
    """A dict that also indexes by position over its non-None fields, like ModelOutput."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as error:
            raise AttributeError(name) from error

    def __getitem__(self, key):
        if isinstance(key, int):
            return [v for v in self.values() if v is not None][key]
        return super().__getitem__(key)


# ------------------------------------------------------------------ modules


def _activation(name):
    if name == "quick_gelu":
        return lambda x: x * torch.sigmoid(1.702 * x)
    if name == "gelu":
        return nn.functional.gelu
    raise ValueError(name)


class CLIPTextEmbeddings(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.token_embedding = nn.Embedding(config.vocab_size, config.hidden_size)
        self.position_embedding = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.register_buffer("position_ids", torch.arange(config.max_position_embeddings).expand((1, -1)), persistent=False)

    def forward(self, input_ids):
        positions = self.position_ids[:, : input_ids.shape[-1]]
        return self.token_embedding(input_ids) + self.position_embedding(positions)


class CLIPAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.embed_dim = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.head_dim = self.embed_dim // self.num_heads
        self.scale = self.head_dim**-0.5
        self.k_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.v_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.q_proj = nn.Linear(self.embed_dim, self.embed_dim)
        self.out_proj = nn.Linear(self.embed_dim, self.embed_dim)

    def forward(self, hidden_states, causal_mask):
        batch, length, _ = hidden_states.shape
        shape = (batch, length, self.num_heads, self.head_dim)
        q = self.q_proj(hidden_states).view(shape).transpose(1, 2)
        k = self.k_proj(hidden_states).view(shape).transpose(1, 2)
        v = self.v_proj(hidden_states).view(shape).transpose(1, 2)
        weights = torch.matmul(q, k.transpose(2, 3)) * self.scale + causal_mask
        weights = nn.functional.softmax(weights, dim=-1, dtype=torch.float32).to(q.dtype)
        out = torch.matmul(weights, v).transpose(1, 2).reshape(batch, length, self.embed_dim)
        return self.out_proj(out)


class CLIPMLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.activation_fn = _activation(config.hidden_act)
        self.fc1 = nn.Linear(config.hidden_size, config.intermediate_size)
        self.fc2 = nn.Linear(config.intermediate_size, config.hidden_size)

    def forward(self, x):
        return self.fc2(self.activation_fn(self.fc1(x)))


class CLIPEncoderLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.self_attn = CLIPAttention(config)
        self.layer_norm1 = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.mlp = CLIPMLP(config)
        self.layer_norm2 = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, h, causal_mask):
        h = h + self.self_attn(self.layer_norm1(h), causal_mask)
        return h + self.mlp(self.layer_norm2(h))


class CLIPEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.layers = nn.ModuleList([CLIPEncoderLayer(config) for _ in range(config.num_hidden_layers)])

    def forward(self, h, causal_mask):
        states = []
        for layer in self.layers:
            states.append(h)
            h = layer(h, causal_mask)
        states.append(h)
        return h, tuple(states)


class CLIPTextTransformer(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.embeddings = CLIPTextEmbeddings(config)
        self.encoder = CLIPEncoder(config)
        self.final_layer_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, input_ids):
        h = self.embeddings(input_ids)
        length = input_ids.shape[-1]
        mask = torch.full((length, length), torch.finfo(h.dtype).min, dtype=h.dtype).triu(1)[None, None]
        last, states = self.encoder(h, mask)
        last = self.final_layer_norm(last)
        rows = torch.arange(last.shape[0])
        if self.config.eos_token_id == 2:  # transformers' legacy rule: the highest id is end-of-text
            pooled = last[rows, input_ids.to(torch.int64).argmax(dim=-1)]
        else:
            pooled = last[rows, (input_ids.to(torch.int64) == self.config.eos_token_id).int().argmax(dim=-1)]
        return last, pooled, states


class _Base(nn.Module):
    def _init_weights(self, seed):
        """Deterministic init from a seed: normal(0, 0.02) weights, like transformers' CLIP init scale."""
        generator = torch.Generator().manual_seed(seed)
        for name, param in sorted(self.named_parameters()):
            with torch.no_grad():
                if name.endswith("layer_norm1.weight") or name.endswith("layer_norm2.weight") or name.endswith("final_layer_norm.weight"):
                    param.copy_(1.0 + 0.1 * torch.randn(param.shape, generator=generator))
                elif name.endswith(".bias"):
                    param.copy_(0.02 * torch.randn(param.shape, generator=generator))
                elif "embedding" in name:
                    param.copy_(0.5 * torch.randn(param.shape, generator=generator))
                else:
                    fan_in = param.shape[-1]
                    param.copy_(torch.randn(param.shape, generator=generator) / math.sqrt(fan_in))

    @property
    def dtype(self):
        return next(self.parameters()).dtype

    @property
    def device(self):
        return next(self.parameters()).device


class CLIPTextModel(_Base):
    __module__ = "transformers.models.clip.modeling_clip"

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.text_model = CLIPTextTransformer(config)

    def forward(self, input_ids, output_hidden_states=False, attention_mask=None, return_dict=True):
        assert attention_mask is None
        last, pooled, states = self.text_model(input_ids)
        return Output(last_hidden_state=last, pooler_output=pooled, hidden_states=states if output_hidden_states else None)


class CLIPTextModelWithProjection(_Base):
    __module__ = "transformers.models.clip.modeling_clip"

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.text_model = CLIPTextTransformer(config)
        self.text_projection = nn.Linear(config.hidden_size, config.projection_dim, bias=False)

    def forward(self, input_ids, output_hidden_states=False, attention_mask=None, return_dict=True):
        assert attention_mask is None
        last, pooled, states = self.text_model(input_ids)
        return Output(
            text_embeds=self.text_projection(pooled),
            last_hidden_state=last,
            hidden_states=states if output_hidden_states else None,
        )


# ------------------------------------------------------------------ tokenizer


def byte_level_alphabet():
    """GPT-2/CLIP's byte-to-unicode table, in byte order."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    table = {}
    extra = 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return [table[b] for b in range(256)]


def learn_merges(words):
    """Merges that spell each word left to right (first occurrence wins the rank)."""
    merges = []
    seen = set()
    for word in words:
        symbols = list(word[:-1]) + [word[-1] + END_OF_WORD]
        current = symbols[0]
        for symbol in symbols[1:]:
            pair = (current, symbol)
            if pair not in seen:
                seen.add(pair)
                merges.append(pair)
            current = current + symbol
    return merges


class TinyClipTokenizer:
    """CLIP's BPE over a tiny vocabulary; callable like transformers' CLIPTokenizer for diffusers."""

    def __init__(self, words, model_max_length=77, pad_token=EOS):
        alphabet = byte_level_alphabet()
        self.merges = learn_merges(words)
        tokens = alphabet + [s + END_OF_WORD for s in alphabet] + [a + b for a, b in self.merges] + [BOS, EOS]
        self.vocab = {}
        for i, token in enumerate(tokens):
            assert token not in self.vocab, token
            self.vocab[token] = i
        self.ranks = {pair: i for i, pair in enumerate(self.merges)}
        self.model_max_length = model_max_length
        self.pad_token = pad_token
        self.bos_token_id = self.vocab[BOS]
        self.eos_token_id = self.vocab[EOS]
        self.pad_token_id = self.vocab[pad_token]

    def bpe(self, word):
        symbols = list(word[:-1]) + [word[-1] + END_OF_WORD]
        while len(symbols) > 1:
            pairs = [(self.ranks.get((a, b), math.inf), i) for i, (a, b) in enumerate(zip(symbols, symbols[1:]))]
            rank, _ = min(pairs)
            if rank == math.inf:
                break
            first, second = self.merges[rank]
            merged = []
            i = 0
            while i < len(symbols):
                if i < len(symbols) - 1 and symbols[i] == first and symbols[i + 1] == second:
                    merged.append(first + second)
                    i += 2
                else:
                    merged.append(symbols[i])
                    i += 1
            symbols = merged
        return symbols

    def encode(self, text):
        text = re.sub(r"\s+", " ", text).strip().lower()
        assert re.fullmatch(r"[a-z ]*", text), f"the fixture tokenizer only takes lowercase words: {text!r}"
        ids = [self.bos_token_id]
        for word in text.split(" ") if text else []:
            ids += [self.vocab[s] for s in self.bpe(word)]
        return ids + [self.eos_token_id]

    def __call__(self, prompts, padding="max_length", max_length=None, truncation=True, return_tensors="pt"):
        if isinstance(prompts, str):
            prompts = [prompts]
        max_length = max_length or self.model_max_length
        rows = []
        for prompt in prompts:
            ids = self.encode(prompt)
            if truncation and len(ids) > max_length:
                ids = ids[: max_length - 1] + [self.eos_token_id]
            if padding == "max_length":
                ids = ids + [self.pad_token_id] * (max_length - len(ids))
            rows.append(ids)
        return Output(input_ids=torch.tensor(rows, dtype=torch.int64))

    def batch_decode(self, ids):
        raise NotImplementedError("only reached when a prompt is truncated; the fixture prompts are short")

    def save(self, directory):
        os.makedirs(directory, exist_ok=True)
        write_json(os.path.join(directory, "vocab.json"), self.vocab)
        with open(os.path.join(directory, "merges.txt"), "w", encoding="utf-8", newline="\n") as f:
            f.write("#version: 0.2\n")
            for a, b in self.merges:
                f.write(f"{a} {b}\n")
        special = {"bos_token": BOS, "eos_token": EOS, "pad_token": self.pad_token, "unk_token": EOS}
        write_json(os.path.join(directory, "special_tokens_map.json"), special)
        write_json(
            os.path.join(directory, "tokenizer_config.json"),
            {
                "add_prefix_space": False,
                "bos_token": BOS,
                "clean_up_tokenization_spaces": True,
                "do_lower_case": True,
                "eos_token": EOS,
                "errors": "replace",
                "model_max_length": self.model_max_length,
                "pad_token": self.pad_token,
                "tokenizer_class": "CLIPTokenizer",
                "unk_token": EOS,
            },
        )


def write_json(path, value):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        json.dump(value, f, indent=2, sort_keys=True, ensure_ascii=False)
        f.write("\n")
