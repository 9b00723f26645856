"""ONNX exports of the fixture models with Optimum's SDXL input and output names.

Optimum exports each SDXL part with torch.onnx.export behind a thin wrapper that fixes the
input and output names; these wrappers do the same:
- text_encoder / text_encoder_2: `input_ids` -> `last_hidden_state`, `pooler_output`
  (CLIPTextModel) or `text_embeds` (with projection), and `hidden_states.0..N`;
- unet: `sample`, `timestep`, `encoder_hidden_states`, `text_embeds`, `time_ids` -> `out_sample`;
  `timestep` either int64 of shape [batch] (older exports) or a float32 scalar (newer ones);
- vae_decoder: `latent_sample` -> `sample`;
- vae_encoder: `sample` -> `latent_parameters` (mean and logvar, newer Optimum) or
  `latent_sample` (a draw inside the graph, older exports).

External data: the weights go to one file beside the graph (Optimum's `model.onnx_data`),
in graph order; a second export of the same module can point at the same file.

fp16: `to_fp16` rewrites an fp32 export so that its inputs, outputs and weights are float16.
It casts at the edges (float16 weights feed Cast nodes; the arithmetic between stays float32)
so the model runs on ONNX Runtime's CPU provider, which lacks float16 kernels for Conv and
most other ops; what a loader sees (float16 I/O, float16 range, half-size weight files) is
what a GPU fp16 export has.
"""

import os

import numpy as np
import onnx
import onnx.external_data_helper
import torch
from onnx import TensorProto, helper, numpy_helper

OPSET = 17


def _export(module, args, path, input_names, output_names, dynamic_axes):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            module, args, path, input_names=input_names, output_names=output_names, dynamic_axes=dynamic_axes,
            opset_version=OPSET, do_constant_folding=True,
        )
    compact_names(path)


def compact_names(path):
    """Short names for nodes and intermediate values ("/unet/down_blocks.1/.../Mul_output_0"
    becomes "v812"): the same graph in a fifth of the bytes. Inputs, outputs and initializer
    names stay as exported."""
    model = onnx.load(path)
    graph = model.graph
    keep = {v.name for v in graph.input} | {v.name for v in graph.output} | {t.name for t in graph.initializer}
    names = {}

    def short(name):
        if not name or name in keep:
            return name
        if name not in names:
            names[name] = f"v{len(names)}"
        return names[name]

    for i, node in enumerate(graph.node):
        node.name = f"{node.op_type}_{i}"
        for j, name in enumerate(node.input):
            node.input[j] = short(name)
        for j, name in enumerate(node.output):
            node.output[j] = short(name)
    del graph.value_info[:]
    onnx.save_model(model, path)


class _TextEncoder(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids):
        out = self.model(input_ids.to(torch.int64), output_hidden_states=True)
        head = (out.text_embeds, out.last_hidden_state) if "text_embeds" in out else (out.last_hidden_state, out.pooler_output)
        return (*head, *out.hidden_states)


def export_text_encoder(model, path, id_dtype, external_data=None):
    layers = model.config.num_hidden_layers
    first = ["text_embeds", "last_hidden_state"] if hasattr(model, "text_projection") else ["last_hidden_state", "pooler_output"]
    outputs = first + [f"hidden_states.{i}" for i in range(layers + 1)]
    ids = torch.full((1, 77), model.config.eos_token_id, dtype=id_dtype)
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"}}
    for name in outputs:
        axes[name] = {0: "batch_size"} if name in ("text_embeds", "pooler_output") else {0: "batch_size", 1: "sequence_length"}
    _export(_TextEncoder(model), (ids,), path, ["input_ids"], outputs, axes)
    if external_data:
        move_to_external_data(path, external_data)


class _Unet(torch.nn.Module):
    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample, timestep, encoder_hidden_states, text_embeds, time_ids):
        cond = {"text_embeds": text_embeds, "time_ids": time_ids}
        return self.unet(sample, timestep, encoder_hidden_states, added_cond_kwargs=cond, return_dict=False)[0]


def export_unet(unet, path, timestep, external_data=None, share_external_with=None):
    sample = torch.zeros((2, 4, 8, 12))
    if timestep == "int64-batch":
        t = torch.tensor([999, 999], dtype=torch.int64)
        t_axes = {0: "batch_size"}
    elif timestep == "float-scalar":
        t = torch.tensor(999.0)
        t_axes = {}
    else:
        raise ValueError(timestep)
    args = (sample, t, torch.zeros((2, 77, 64)), torch.zeros((2, 32)), torch.zeros((2, 6)))
    axes = {
        "sample": {0: "batch_size", 2: "height", 3: "width"},
        "encoder_hidden_states": {0: "batch_size", 1: "sequence_length"},
        "text_embeds": {0: "batch_size"},
        "time_ids": {0: "batch_size"},
        "out_sample": {0: "batch_size", 2: "height", 3: "width"},
    }
    if t_axes:
        axes["timestep"] = t_axes
    _export(_Unet(unet), args, path, ["sample", "timestep", "encoder_hidden_states", "text_embeds", "time_ids"], ["out_sample"], axes)
    if external_data:
        return move_to_external_data(path, external_data, share=share_external_with)
    return None


class _VaeDecoder(torch.nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, latent_sample):
        return self.vae.decode(latent_sample, return_dict=False)[0]


class _VaeEncoder(torch.nn.Module):
    def __init__(self, vae, output):
        super().__init__()
        self.vae = vae
        self.output = output

    def forward(self, sample):
        dist = self.vae.encode(sample, return_dict=False)[0]
        if self.output == "latent_parameters":
            return dist.parameters
        # DiagonalGaussianDistribution.sample() as one traced op (RandomNormalLike) so the
        # batch and image size stay dynamic
        return dist.mean + dist.std * torch.randn_like(dist.mean)


def export_vae_decoder(vae, path):
    axes = {"latent_sample": {0: "batch_size", 2: "latent_height", 3: "latent_width"}, "sample": {0: "batch_size", 2: "height", 3: "width"}}
    _export(_VaeDecoder(vae), (torch.zeros((1, 4, 8, 12)),), path, ["latent_sample"], ["sample"], axes)


def export_vae_encoder(vae, path, output):
    axes = {"sample": {0: "batch_size", 2: "height", 3: "width"}, output: {0: "batch_size", 2: "latent_height", 3: "latent_width"}}
    _export(_VaeEncoder(vae, output), (torch.zeros((1, 3, 64, 96)),), path, ["sample"], [output], axes)


# ------------------------------------------------------------------ external data


def _set_external(tensor, location, offset, length):
    del tensor.external_data[:]
    for key, value in (("location", location), ("offset", str(offset)), ("length", str(length))):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, value
    tensor.data_location = TensorProto.EXTERNAL
    tensor.ClearField("raw_data")


def move_to_external_data(path, location, share=None, min_bytes=1024):
    """Moves initializers of at least `min_bytes` into `location` beside `path`.

    With `share` (what an earlier call returned), tensors whose bytes are already in that file
    point at them and the file is not rewritten: two graphs, one weights file. Returns
    {bytes: (offset, length)} of the file's contents.
    """
    model = onnx.load(path)
    folder = os.path.dirname(path)
    placed = {} if share is None else share
    chunks = []
    offset = 0
    for tensor in model.graph.initializer:
        raw = numpy_helper.to_array(tensor).tobytes() if not tensor.HasField("raw_data") else tensor.raw_data
        if len(raw) < min_bytes:
            continue
        if raw in placed:
            _set_external(tensor, location, *placed[raw])
            continue
        if share is not None:
            continue  # not in the shared file: stays inline in this graph
        _set_external(tensor, location, offset, len(raw))
        placed[raw] = (offset, len(raw))
        chunks.append(raw)
        offset += len(raw)
    if share is None:
        with open(os.path.join(folder, location), "wb") as f:
            for chunk in chunks:
                f.write(chunk)
    onnx.save_model(model, path)
    return placed


# ------------------------------------------------------------------ fp16


def to_fp16(src, dst, external_dir=None, min_elements=16):
    """`external_dir`: where `src`'s external data file is, when not beside it."""
    model = onnx.load(src, load_external_data=False)
    onnx.external_data_helper.load_external_data_for_model(model, external_dir or os.path.dirname(src))
    graph = model.graph
    casts = []
    for tensor in list(graph.initializer):
        if tensor.data_type != TensorProto.FLOAT or int(np.prod(tensor.dims)) < min_elements:
            continue
        array = numpy_helper.to_array(tensor).astype(np.float16)
        half = numpy_helper.from_array(array, tensor.name + "_fp16")
        graph.initializer.remove(tensor)
        graph.initializer.append(half)
        casts.append(helper.make_node("Cast", [half.name], [tensor.name], to=TensorProto.FLOAT, name="Cast_" + half.name))
    renamed_inputs = {}
    for value in graph.input:
        if value.type.tensor_type.elem_type == TensorProto.FLOAT:
            value.type.tensor_type.elem_type = TensorProto.FLOAT16
            inner = value.name + "_fp32"
            renamed_inputs[value.name] = inner
            casts.append(helper.make_node("Cast", [value.name], [inner], to=TensorProto.FLOAT, name="Cast_" + inner))
    for node in graph.node:
        for i, name in enumerate(node.input):
            if name in renamed_inputs:
                node.input[i] = renamed_inputs[name]
    tail = []
    for value in graph.output:
        if value.type.tensor_type.elem_type == TensorProto.FLOAT:
            value.type.tensor_type.elem_type = TensorProto.FLOAT16
            inner = value.name + "_fp32"
            for node in graph.node:
                for i, name in enumerate(node.output):
                    if name == value.name:
                        node.output[i] = inner
            tail.append(helper.make_node("Cast", [inner], [value.name], to=TensorProto.FLOAT16, name="Cast_" + value.name))
    nodes = casts + list(graph.node) + tail
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.value_info[:]
    onnx.checker.check_model(model)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    onnx.save_model(model, dst)
