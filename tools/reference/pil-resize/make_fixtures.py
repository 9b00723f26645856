#!/usr/bin/python3
"""Reference outputs of PIL's Image.resize and diffusers' VaeImageProcessor.preprocess.

Writes packages/runtime/fixtures/pil-resize/{manifest.json,data.bin.gz}: deterministic
input images (odd, non-square and 1xN sizes; gradients, 1-pixel checkerboards, hard
diagonal steps and hashed noise), PIL's resize of each for every filter diffusers can
name (lanczos, bicubic, bilinear, nearest), up and down, 'RGB' and 'L', with and
without a box and a reducing_gap, and diffusers' own `VaeImageProcessor.preprocess`
(image and mask configs, resize_mode default/fill/crop, crops_coords) on some of them.

Needs only numpy, PIL, torch and packaging (Debian: /usr/bin/python3 with python3-pil,
python3-numpy, python3-torch) plus the diffusers source tree; see README.md.
"""

import argparse
import gzip
import importlib.util
import inspect
import json
import os
import sys
import types

import numpy as np
import PIL
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
OUT_DIR = os.path.join(REPO, "packages", "runtime", "fixtures", "pil-resize")
DIFFUSERS_COMMIT = "58eb52c080"

FILTERS = {
    "lanczos": Image.Resampling.LANCZOS,
    "bicubic": Image.Resampling.BICUBIC,
    "bilinear": Image.Resampling.BILINEAR,
    "nearest": Image.Resampling.NEAREST,
}


# ---------------------------------------------------------------- inputs


def hashed(width, height, channel, seed):
    """Deterministic 'noise' from integer mixing (no RNG whose stream could change)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.uint32)
    v = x * np.uint32(0x9E3779B1) ^ y * np.uint32(0x85EBCA77) ^ np.uint32((channel + 1) * 0x27D4EB2F + seed)
    v ^= v >> np.uint32(15)
    v *= np.uint32(0x2C1B3C6D)
    v ^= v >> np.uint32(12)
    return (v & np.uint32(255)).astype(np.uint8)


def pattern(width, height, channels, seed):
    """Four quadrants: a gradient, a 1-pixel checkerboard, hard diagonal steps, noise."""
    y, x = np.mgrid[0:height, 0:width]
    planes = []
    for c in range(channels):
        gradient = (x * 255 // max(width - 1, 1) + y * 97 // max(height - 1, 1) + 60 * c) % 256
        checker = np.where((x + y + c) % 2 == 0, 255, 0)
        steps = np.where((x + 2 * y + 3 * c) % 7 < 3, 255, 0)
        noise = hashed(width, height, c, seed).astype(np.int64)
        left, top = x < width / 2, y < height / 2
        plane = np.where(top, np.where(left, gradient, checker), np.where(left, noise, steps))
        planes.append(plane.astype(np.uint8))
    array = np.stack(planes, axis=-1)
    return Image.fromarray(array[..., 0], "L") if channels == 1 else Image.fromarray(array, "RGB")


INPUT_SIZES = {
    "a": (37, 23),
    "b": (64, 48),
    "c": (128, 80),
    "d": (5, 3),
    "e": (1, 9),
    "f": (9, 1),
    "g": (1, 1),
    "h": (16, 16),
}

# (input, output width, output height, box or None, reducing_gap or None)
RESIZES = [
    ("a", 74, 46, None, None),  # 2x up, the case the issue measured
    ("a", 64, 40, None, None),  # up by a non-integer factor
    ("a", 16, 8, None, None),  # down by a non-integer factor
    ("a", 24, 48, None, None),  # down in x, up in y
    ("a", 37, 40, None, None),  # vertical pass only
    ("a", 50, 23, None, None),  # horizontal pass only
    ("a", 1, 1, None, None),
    ("a", 1, 23, None, None),
    ("a", 37, 23, None, None),  # same size: a copy
    ("b", 32, 24, None, None),  # 2x down
    ("b", 21, 16, None, None),
    ("c", 40, 24, None, None),  # 3.2x down
    ("c", 7, 5, None, None),  # wide support
    ("d", 17, 11, None, None),
    ("e", 4, 16, None, None),  # one column
    ("f", 3, 1, None, None),  # one row
    ("g", 3, 2, None, None),  # one pixel
    ("h", 32, 32, None, None),
    ("a", 20, 12, (2.5, 1.25, 30.75, 20.5), None),  # fractional box
    ("a", 40, 20, (3, 2, 23, 12), None),
    ("a", 20, 10, (3, 2, 23, 12), None),  # integer box of the output size: a crop
    ("a", 37, 5, (0, 0, 37, 0), None),  # the empty boxes resize_mode='fill' uses
    ("a", 37, 5, (0, 23, 37, 23), None),
    ("a", 4, 23, (0, 0, 0, 23), None),
    ("c", 24, 16, None, 1.0),
    ("c", 24, 16, None, 2.0),
    ("c", 7, 5, None, 3.0),
    ("b", 21, 16, None, 1.5),
    ("a", 16, 8, None, 1.0),
    ("c", 30, 20, (5.5, 3, 120, 77.25), 2.0),
]


# ---------------------------------------------------------------- diffusers


def load_diffusers_image_processor(src):
    """diffusers' image_processor.py as is, with its config plumbing stubbed.

    Only `ConfigMixin`/`register_to_config` (which store the __init__ arguments as
    `self.config`) and `deprecate` are stand-ins; `PIL_INTERPOLATION` is diffusers'
    own `utils/pil_utils.py`, and every resize, paste and conversion is diffusers' code.
    """
    package = types.ModuleType("diffusers")
    package.__path__ = [os.path.join(src, "diffusers")]
    sys.modules["diffusers"] = package

    pil_utils_spec = importlib.util.spec_from_file_location(
        "diffusers.utils.pil_utils", os.path.join(src, "diffusers", "utils", "pil_utils.py")
    )
    pil_utils = importlib.util.module_from_spec(pil_utils_spec)
    pil_utils_spec.loader.exec_module(pil_utils)

    utils = types.ModuleType("diffusers.utils")
    utils.CONFIG_NAME = "config.json"
    utils.PIL_INTERPOLATION = pil_utils.PIL_INTERPOLATION

    def deprecate(*args, **kwargs):
        raise RuntimeError(f"diffusers deprecate() reached: {args}")

    utils.deprecate = deprecate
    sys.modules["diffusers.utils"] = utils

    configuration = types.ModuleType("diffusers.configuration_utils")

    class ConfigMixin:
        pass

    def register_to_config(init):
        signature = inspect.signature(init)

        def wrapped(self, *args, **kwargs):
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            values = dict(bound.arguments)
            values.pop("self")
            self.config = types.SimpleNamespace(**values)
            init(self, *args, **kwargs)

        return wrapped

    configuration.ConfigMixin = ConfigMixin
    configuration.register_to_config = register_to_config
    sys.modules["diffusers.configuration_utils"] = configuration

    spec = importlib.util.spec_from_file_location(
        "diffusers.image_processor", os.path.join(src, "diffusers", "image_processor.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


IMAGE_CONFIG = {"vae_scale_factor": 8}
MASK_CONFIG = {"vae_scale_factor": 8, "do_normalize": False, "do_binarize": True, "do_convert_grayscale": True}

# (name, processor config, input, input mode, preprocess kwargs)
PREPROCESS = [
    ("image-default-size", IMAGE_CONFIG, "a", "RGB", {}),
    ("image-upscale", IMAGE_CONFIG, "a", "RGB", {"height": 32, "width": 48}),
    ("image-bilinear", {**IMAGE_CONFIG, "resample": "bilinear"}, "a", "RGB", {"height": 32, "width": 48}),
    ("image-reducing-gap", {**IMAGE_CONFIG, "reducing_gap": 2}, "c", "RGB", {"height": 16, "width": 24}),
    ("image-fill-tall", IMAGE_CONFIG, "a", "RGB", {"height": 24, "width": 24, "resize_mode": "fill"}),
    ("image-fill-wide", IMAGE_CONFIG, "a", "RGB", {"height": 16, "width": 48, "resize_mode": "fill"}),
    ("image-crop-tall", IMAGE_CONFIG, "a", "RGB", {"height": 24, "width": 24, "resize_mode": "crop"}),
    ("image-crop-wide", IMAGE_CONFIG, "a", "RGB", {"height": 16, "width": 48, "resize_mode": "crop"}),
    (
        "image-crops-coords-fill",
        IMAGE_CONFIG,
        "b",
        "RGB",
        {"height": 24, "width": 24, "resize_mode": "fill", "crops_coords": (4, 2, 40, 30)},
    ),
    ("mask-rgb-input", MASK_CONFIG, "a", "RGB", {"height": 32, "width": 48}),
    ("mask-l-input", MASK_CONFIG, "a", "L", {"height": 32, "width": 48}),
    ("mask-fill", MASK_CONFIG, "a", "L", {"height": 24, "width": 24, "resize_mode": "fill"}),
    (
        "control-image",
        {"vae_scale_factor": 8, "do_convert_rgb": True, "do_normalize": False},
        "a",
        "L",
        {"height": 16, "width": 24},
    ),
]


# ---------------------------------------------------------------- writing


class Blob:
    def __init__(self):
        self.parts = []
        self.size = 0

    def add(self, data):
        offset = self.size
        self.parts.append(data)
        self.size += len(data)
        return {"offset": offset, "length": len(data)}


def compact_json(manifest):
    """Pretty at the top level, one line per entry: readable diffs, small file."""
    lines = ["{"]
    items = list(manifest.items())
    for i, (key, value) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if isinstance(value, list):
            lines.append(f"  {json.dumps(key)}: [")
            lines += [f"    {json.dumps(v)}" + ("," if j < len(value) - 1 else "") for j, v in enumerate(value)]
            lines.append(f"  ]{comma}")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value)}{comma}")
    return "\n".join(lines + ["}"]) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--diffusers-src", required=True, help="the src/ folder of diffusers at commit " + DIFFUSERS_COMMIT)
    parser.add_argument("--out", default=OUT_DIR)
    args = parser.parse_args()

    diffusers_image_processor = load_diffusers_image_processor(os.path.abspath(args.diffusers_src))
    blob = Blob()
    inputs = {}
    manifest = {
        "about": "PIL Image.resize and diffusers VaeImageProcessor.preprocess references; made by "
        "tools/reference/pil-resize/make_fixtures.py (see its README). Byte ranges index data.bin.gz once gunzipped.",
        "pil": PIL.__version__,
        "numpy": np.__version__,
        "diffusers_commit": DIFFUSERS_COMMIT,
        "inputs": [],
        "resizes": [],
        "preprocess": [],
    }
    for key, (width, height) in INPUT_SIZES.items():
        for mode, channels in (("RGB", 3), ("L", 1)):
            image = pattern(width, height, channels, seed=len(inputs))
            name = f"{key}-{mode}"
            inputs[name] = image
            entry = {"name": name, "mode": mode, "width": width, "height": height}
            entry.update(blob.add(image.tobytes()))
            manifest["inputs"].append(entry)

    for key, width, height, box, gap in RESIZES:
        for mode in ("RGB", "L"):
            for filter_name, resample in FILTERS.items():
                if gap is not None and filter_name == "nearest":
                    continue  # PIL ignores reducing_gap for NEAREST
                source = inputs[f"{key}-{mode}"]
                out = source.resize((width, height), resample=resample, box=box, reducing_gap=gap)
                assert out.size == (width, height) and out.mode == mode
                entry = {
                    "input": f"{key}-{mode}",
                    "filter": filter_name,
                    "width": width,
                    "height": height,
                    "box": list(box) if box is not None else None,
                    "reducingGap": gap,
                }
                entry.update(blob.add(out.tobytes()))
                manifest["resizes"].append(entry)

    for name, config, key, mode, kwargs in PREPROCESS:
        processor = diffusers_image_processor.VaeImageProcessor(**config)
        tensor = processor.preprocess(inputs[f"{key}-{mode}"], **kwargs)
        array = tensor.detach().numpy().astype("<f4", copy=False)
        entry = {
            "name": name,
            "config": config,
            "input": f"{key}-{mode}",
            "options": {k: (list(v) if isinstance(v, tuple) else v) for k, v in kwargs.items()},
            "shape": list(array.shape),
        }
        entry.update(blob.add(array.tobytes()))
        manifest["preprocess"].append(entry)

    os.makedirs(args.out, exist_ok=True)
    raw = b"".join(blob.parts)
    with open(os.path.join(args.out, "data.bin.gz"), "wb") as f:
        f.write(gzip.compress(raw, compresslevel=9, mtime=0))
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        f.write(compact_json(manifest))
    print(
        f"{len(manifest['inputs'])} inputs, {len(manifest['resizes'])} resizes, {len(manifest['preprocess'])} "
        f"preprocess references, {len(raw)} bytes raw -> {args.out}"
    )


if __name__ == "__main__":
    main()
