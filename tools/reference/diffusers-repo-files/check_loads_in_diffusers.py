"""Hand check: loads a folder this project saved (pipeline.savePretrained / blocks.savePretrained) with diffusers'
ModularPipeline.from_pretrained and prints what diffusers made of it. Exits non-zero when it fails to load or a
component spec lost its class or location.
Run: /usr/bin/python3 tools/reference/diffusers-repo-files/check_loads_in_diffusers.py <folder> [<folder> ...]"""
import json
import sys

import diffusers_env  # noqa: F401
from diffusers.modular_pipelines import ModularPipeline

failed = False
for folder in sys.argv[1:]:
    pipe = ModularPipeline.from_pretrained(folder)
    with open(f'{folder}/modular_model_index.json') as f:
        index = json.load(f)
    print(f'{folder}: {pipe.__class__.__name__} with {pipe.blocks.__class__.__name__}')
    for name in pipe.pretrained_component_names:
        spec = pipe.get_component_spec(name)
        print(f'  {name}: {getattr(spec.type_hint, "__name__", spec.type_hint)} from {spec.pretrained_model_name_or_path!r} / {spec.subfolder!r}')
        entry = index.get(name)
        if entry and (spec.type_hint is None or spec.pretrained_model_name_or_path != entry[2]['pretrained_model_name_or_path']):
            print(f'  !! {name} did not keep its class or location')
            failed = True
sys.exit(1 if failed else 0)
