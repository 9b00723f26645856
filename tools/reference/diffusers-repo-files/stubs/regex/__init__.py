# Name-only stand-in: a pipeline module diffusers imports at module level uses it; nothing here calls it.
from re import *  # noqa: F401,F403
