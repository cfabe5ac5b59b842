"""Typed errors for everything a user can get wrong: the face of :mod:`spikefab.arch.errors`.

The classes live in the hardware contract (``spikefab.arch`` imports nothing else of ours, and its
image, target and result checks raise them); this module re-exports them so that the rest of the
package and every user program keeps writing ``from spikefab.errors import InputError``.
"""

from __future__ import annotations

from spikefab.arch.errors import (ImageError, InputError, LinkError, MissingExtraError, ModelError,
                                  ResourceError, SpikefabError, TargetError, ToolError)

__all__ = [
    "SpikefabError",
    "ModelError",
    "ResourceError",
    "ImageError",
    "TargetError",
    "LinkError",
    "InputError",
    "ToolError",
    "MissingExtraError",
]
