class SafetensorError(Exception): pass
def safe_open(*a, **k): raise NotImplementedError('stub')
