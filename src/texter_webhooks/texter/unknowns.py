"""Values a preview does not know yet, as a dynamic provider receives them.

During a preview the engine marks an input whose Output is unresolved (the receiver's URL
before its service exists) with a sentinel string. The SDK deserialises `check` and `diff`
inputs with `keep_unknowns=True`, which turns each sentinel into a `pulumi.output.Unknown`
object, at any depth. The sentinel string itself is what a provider hands back for a value
it cannot compute yet (`check` returns it for `body_hash`), so both forms count as unknown.
`rpc.contains_unknowns` of the SDK knows only the object form, hence these helpers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi.runtime import known_types, rpc

# What a provider returns for a value only `up` can compute; the engine shows it as
# `(computed)` / `output<string>`.
UNKNOWN = rpc.UNKNOWN


def is_unknown(value: Any) -> bool:
    return known_types.is_unknown(value) or (isinstance(value, str) and value == rpc.UNKNOWN)


def is_known(value: Any) -> bool:
    """Present and known: neither None nor unknown."""
    return value is not None and not is_unknown(value)


def contains_unknown(value: Any) -> bool:
    if is_unknown(value):
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_unknown(v) for v in value)
    return False
