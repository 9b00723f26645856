"""Lets diffusers import on a Debian Python that lacks huggingface_hub's helper libraries.

huggingface_hub (imported by diffusers) needs `packaging`, `filelock`, `tqdm`, `httpx` and `httpcore`
at import time. This script never downloads, locks files or draws progress bars, so when one of
them is not installed an inert module stands in (every attribute is a do-nothing class). `packaging`
does real work (diffusers compares versions with it): it comes from the copy setuptools vendors.
Installed libraries are always used as they are.
"""

import importlib
import importlib.abc
import importlib.machinery
import importlib.metadata
import sys
import types

SETUPTOOLS_VENDOR = "/usr/lib/python3/dist-packages/setuptools/_vendor"


class _Nothing(Exception):
    """Constructible with anything, callable, a context manager, iterable (over what it wraps)."""

    def __init__(self, iterable=None, *args, **kwargs):
        self._items = iterable if iterable is not None else ()

    def __call__(self, *args, **kwargs):
        return None

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __iter__(self):
        return iter(self._items)


class _NothingMeta(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *args, **kwargs: None


class _StandIns(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, roots):
        self.roots = set(roots)

    def find_spec(self, fullname, path=None, target=None):
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True) if fullname.split(".")[0] in self.roots else None

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        module.__version__ = "0.0.0"
        made = {}

        def __getattr__(name):
            if name.startswith("__"):
                raise AttributeError(name)
            return made.setdefault(name, _NothingMeta(name, (_Nothing,), {}))

        module.__getattr__ = __getattr__
        return module

    def exec_module(self, module):
        pass


def install():
    try:
        import packaging.version  # noqa: F401
    except ImportError:
        sys.path.append(SETUPTOOLS_VENDOR)
        import packaging.version  # noqa: F401
    absent = []
    for name in ("filelock", "tqdm", "httpx", "httpcore"):
        try:
            importlib.import_module(name)
        except ImportError:
            absent.append(name)
    if absent:
        sys.meta_path.append(_StandIns(absent))
        version = importlib.metadata.version
        importlib.metadata.version = lambda name: "0.0.0" if name in absent else version(name)
