"""Stand-ins for the libraries huggingface_hub imports, for a Python without their Debian packages.

diffusers imports huggingface_hub, which imports `packaging`, `filelock`, `tqdm`, `httpx` and `httpcore` at
module level; the fixtures never download, lock or show progress, so none of them computes
anything here. Each is used as installed when it imports; otherwise `packaging` comes from the
copy setuptools vendors (real code: diffusers compares versions with it) and the others are
modules whose every name is an inert class (an Exception subclass, so `except X` still parses).
"""

import importlib
import importlib.machinery
import sys
import types

SETUPTOOLS_VENDOR = "/usr/lib/python3/dist-packages/setuptools/_vendor"


class _InertType(type):
    """Class attributes the importing code reads (tqdm.set_lock, ...) are no-op functions."""

    def __getattr__(cls, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return lambda *a, **k: None


class _Inert(Exception, metaclass=_InertType):
    """An instance does nothing: a progress bar (context manager, iterates what it wraps), a lock, a client."""

    def __init__(self, iterable=None, *args, **kwargs):
        self._iterable = iterable

    def __call__(self, *args, **kwargs):
        return None

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return lambda *a, **k: None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __iter__(self):
        return iter(self._iterable if self._iterable is not None else ())


def _inert_module(name):
    cache = {}

    def __getattr__(attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        if attr not in cache:
            cache[attr] = _InertType(attr, (_Inert,), {})
        return cache[attr]

    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None, is_package=True)
    module.__path__ = []
    module.__getattr__ = __getattr__
    module.__version__ = "0.0.0"
    return module


class _InertFinder:
    """Resolves `httpx._types` and other submodules of a stubbed package to inert modules too."""

    def __init__(self, roots):
        self.roots = set(roots)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.roots:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec):
        return _inert_module(spec.name)

    def exec_module(self, module):
        pass


def install():
    try:
        import packaging.version  # noqa: F401
    except ImportError:
        sys.path.append(SETUPTOOLS_VENDOR)
        import packaging.version  # noqa: F401
    missing = []
    for name in ("filelock", "tqdm", "httpx", "httpcore"):
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        sys.meta_path.append(_InertFinder(missing))
        # diffusers asks importlib.metadata for filelock's version at import (any version will do).
        import importlib.metadata as metadata

        real_version = metadata.version
        metadata.version = lambda name: "0.0.0" if name in missing else real_version(name)
