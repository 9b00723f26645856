"""Writes sdxl-workflows.json: diffusers' StableDiffusionXLAutoBlocks workflows at 58eb52c — each
workflow's trigger inputs, the (dotted name, class) of the blocks get_workflow(name) returns, and the
components that workflow expects. Run: /usr/bin/python3 tools/reference/diffusers-repo-files/make_workflows.py"""
import json
import os

import diffusers_env  # noqa: F401
from diffusers.modular_pipelines import StableDiffusionXLAutoBlocks

HERE = os.path.dirname(os.path.abspath(__file__))
blocks = StableDiffusionXLAutoBlocks()
out = {'diffusers_commit': '58eb52c080', 'workflows': {}}
for name, triggers in blocks._workflow_map.items():
    wf = blocks.get_workflow(name)
    out['workflows'][name] = {
        'triggers': triggers,
        'blocks': [[n, b.__class__.__name__] for n, b in wf.sub_blocks.items()],
        'components': sorted(s.name for s in wf.expected_components),
    }
with open(os.path.join(HERE, 'sdxl-workflows.json'), 'w') as f:
    json.dump(out, f, indent=2)
    f.write('\n')
print('wrote', len(out['workflows']), 'workflows')
