"""Writes requirements/{sequential,conditional,loop}/modular_config.json: what diffusers 58eb52c's
blocks.save_pretrained writes for the blocks of tests/modular_pipelines/test_modular_pipelines_custom_blocks.py::
TestCustomBlockRequirements (two leaf blocks declaring _requirements, composed three ways).
Run: /usr/bin/python3 tools/reference/diffusers-repo-files/make_requirements.py"""
import json
import os
import tempfile

import diffusers_env  # noqa: F401
from diffusers.modular_pipelines import ConditionalPipelineBlocks, LoopSequentialPipelineBlocks, SequentialPipelineBlocks

HERE = os.path.dirname(os.path.abspath(__file__))


class DummyBlockOne:
    _requirements = {"xyz": ">=0.8.0", "abc": ">=10.0.0"}


class DummyBlockTwo:
    _requirements = {"transformers": ">=4.44.0", "diffusers": ">=0.2.0"}


class DummyConditionalBlocks(ConditionalPipelineBlocks):
    block_classes = [DummyBlockOne, DummyBlockTwo]
    block_names = ["block_one", "block_two"]
    block_trigger_inputs = []

    def select_block(self, **kwargs):
        return "block_one"


cases = {
    'sequential': SequentialPipelineBlocks.from_blocks_dict({"dummy_block_one": DummyBlockOne, "dummy_block_two": DummyBlockTwo}),
    'conditional': DummyConditionalBlocks(),
    'loop': LoopSequentialPipelineBlocks.from_blocks_dict({"block_one": DummyBlockOne, "block_two": DummyBlockTwo}),
}
for name, blocks in cases.items():
    with tempfile.TemporaryDirectory() as tmp:
        blocks.save_pretrained(tmp)
        with open(os.path.join(tmp, 'modular_config.json')) as f:
            content = f.read()
    os.makedirs(os.path.join(HERE, 'requirements', name), exist_ok=True)
    with open(os.path.join(HERE, 'requirements', name, 'modular_config.json'), 'w') as f:
        f.write(content)
    print(name, json.loads(content))
