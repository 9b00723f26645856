# Names only: diffusers imports these classes at module level; nothing here is ever instantiated.
__version__ = '0.22.0'
_cache = {}
def __getattr__(name):
    if name.startswith('__'):
        raise AttributeError(name)
    if name not in _cache:
        _cache[name] = type(name, (), {'__module__': 'tokenizers'})
    return _cache[name]
