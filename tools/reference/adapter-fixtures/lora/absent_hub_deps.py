"""Lets diffusers import on a Debian Python that lacks the packages huggingface_hub imports.

huggingface_hub imports `packaging`, `filelock`, `tqdm`, `httpx` and `httpcore` at module level; these
fixtures never download, lock files or show progress, so none of them computes anything here. An
installed package is used as it is. Otherwise `packaging` is setuptools' vendored copy (diffusers
compares versions with it) and each other one is a module whose names are do-nothing classes.
"""

import importlib
import importlib.machinery
import importlib.metadata
import sys
import types

SETUPTOOLS_VENDOR = "/usr/lib/python3/dist-packages/setuptools/_vendor"
OPTIONAL = ("filelock", "tqdm", "httpx", "httpcore")


class _Nothing(Exception):
    """Any use does nothing: call it, enter it, iterate it (as what it wraps), read any attribute."""

    def __init__(self, iterable=None, *args, **kwargs):
        self._wrapped = iterable

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *a, **k: None

    def __call__(self, *args, **kwargs):
        return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __iter__(self):
        return iter(self._wrapped if self._wrapped is not None else ())


class _NothingMeta(type):
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return lambda *a, **k: None


class _Finder:
    """Any module under an absent package is a module of do-nothing classes."""

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
    for name in OPTIONAL:
        try:
            importlib.import_module(name)
        except ImportError:
            absent.append(name)
    if absent:
        sys.meta_path.append(_Finder(absent))
        # diffusers checks filelock's installed version at import; any version passes.
        real_version = importlib.metadata.version
        importlib.metadata.version = lambda name: "0.0.0" if name in absent else real_version(name)
