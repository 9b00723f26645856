# Patches Debian torch 1.13 with the names diffusers 58eb52c touches at import time.
import sys
import types
import torch
for name in ['xpu', 'mps', 'mtia']:
    if not hasattr(torch, name):
        setattr(torch, name, types.SimpleNamespace(
            empty_cache=lambda: None, device_count=lambda: 0, is_available=lambda: False,
            manual_seed=lambda *a: None, reset_peak_memory_stats=lambda *a: None,
            max_memory_allocated=lambda *a: 0, synchronize=lambda *a: None, current_device=lambda: 0))
for name in ['float8_e4m3fn', 'float8_e5m2', 'uint16', 'uint32', 'uint64', 'float8_e8m0fnu', 'float4_e2m1fn_x2']:
    if not hasattr(torch, name):
        setattr(torch, name, torch.float16)
import torch.distributed as _dist
if not hasattr(_dist, 'device_mesh'):
    _dist.device_mesh = types.SimpleNamespace(DeviceMesh=type('DeviceMesh', (), {}))
sys.modules.setdefault('torch.distributed._functional_collectives', types.ModuleType('torch.distributed._functional_collectives'))
if not hasattr(torch, 'compiler'):
    torch.compiler = types.SimpleNamespace(disable=lambda f=None, **k: (f if f else (lambda g: g)),
                                           is_compiling=lambda: False, is_dynamo_compiling=lambda: False)
# Modules newer torch has; diffusers' model zoo imports them at module level (never used here).
class _Anything(types.ModuleType):
    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        value = type(name, (), {})
        setattr(self, name, value)
        return value
for _name in ['torch.nn.attention', 'torch.nn.attention.flex_attention']:
    if _name not in sys.modules:
        try:
            __import__(_name)
        except ImportError:
            sys.modules[_name] = _Anything(_name)
import torch.nn as _nn
if not hasattr(_nn, 'attention'):
    _nn.attention = sys.modules['torch.nn.attention']
sys.modules['torch.nn.attention'].flex_attention = sys.modules['torch.nn.attention.flex_attention']


# Any submodule of the name-only stand-ins (transformers.masking_utils, ...) resolves to a module of
# placeholder classes, so pipeline modules that import them load (none of them is ever run here).
import importlib.abc
import importlib.machinery


class _StubFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    ROOTS = ('transformers', 'tokenizers')

    def find_spec(self, fullname, path, target=None):
        if fullname.split('.')[0] in self.ROOTS and '.' in fullname:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        module = _Anything(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


sys.meta_path.append(_StubFinder())
