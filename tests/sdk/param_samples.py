"""Builds request bodies that use every field of the official Python SDK's request `*Param`
types, so tests/integration/mock_sdk.rs can check that the embedded request schema accepts
them all.

Walks the TypedDicts reachable from `MessageCreateParamsNonStreaming` (and the beta one) and
fills every key, required or not, with a value of its declared type. A union inside a list gets
one item per member; a union anywhere else takes member `variant % len(members)`, and enough
variants are built that every member of every union appears at least once.

Prints one JSON object: {"sdk": version, "requests": [{"name", "body"}...], "types": N}.
The string "srvtoolu_x1" fits every string pattern of the API (ids, tool names, server tool ids).
"""

import json
import sys
import typing

import anthropic

try:
    from typing import get_type_hints
except ImportError:  # pragma: no cover
    get_type_hints = None

STRING = "srvtoolu_x1"
UNION_TYPES = {typing.Union}
try:
    import types as _types

    UNION_TYPES.add(_types.UnionType)
except AttributeError:  # pragma: no cover
    pass

seen_types = set()
max_union = 1


def is_typeddict(tp):
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__annotations__")


def strip(tp):
    """Removes Annotated / Required / NotRequired / ReadOnly wrappers."""
    while True:
        origin = typing.get_origin(tp)
        name = getattr(origin, "_name", None) or str(origin)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin is not None and any(w in name for w in ("Required", "NotRequired", "ReadOnly")):
            tp = typing.get_args(tp)[0]
        else:
            return tp


def members(tp):
    """The members of a union, flattened, without None (unless it is the only one)."""
    tp = strip(tp)
    if typing.get_origin(tp) in UNION_TYPES:
        out = []
        for a in typing.get_args(tp):
            out.extend(members(a))
        # Response models (TextBlock...) are accepted by the SDK and serialised with
        # model_dump; the round-trip test covers them. Only the *Param shapes are walked here.
        out = [m for m in out if not (isinstance(m, type) and issubclass(m, anthropic.BaseModel))]
        # File inputs (PathLike, IO[bytes]) are encoded to a base64 string by the SDK.
        out = [m for m in out if not is_file_input(m)]
        non_null = [m for m in out if m is not type(None)]
        # `input_schema: InputSchemaTyped | Dict[str, object]`: the typed member is the one the
        # API enforces (`type: object` required), so a bare dict is not tried.
        if any(is_typeddict(strip(m)) for m in non_null):
            non_null = [m for m in non_null if not is_plain_dict(strip(m))]
        return non_null or out
    return [tp]


def is_plain_dict(tp):
    origin = typing.get_origin(tp)
    return tp is dict or origin is dict or getattr(origin, "__name__", "") in ("Dict", "Mapping")


def is_file_input(tp):
    import os

    origin = typing.get_origin(tp) or tp
    return origin in (os.PathLike, typing.IO, bytes) or getattr(origin, "__name__", "") in ("IO", "PathLike")


def is_list(tp):
    origin = typing.get_origin(strip(tp))
    return origin is not None and getattr(origin, "__name__", "") in ("list", "Iterable", "Sequence", "List")


def value(tp, variant, key=""):
    global max_union
    choices = members(tp)
    max_union = max(max_union, len(choices))
    if len(choices) > 1:
        # Prefer a list member inside a list context is handled by the caller; here pick one.
        return value(choices[variant % len(choices)], variant, key)
    tp = strip(choices[0])
    origin = typing.get_origin(tp)
    if tp is type(None):
        return None
    if origin is typing.Literal:
        return typing.get_args(tp)[variant % len(typing.get_args(tp))]
    if is_list(tp):
        (item,) = typing.get_args(tp) or (typing.Any,)
        item_members = members(item)
        return [value(m, variant, key) for m in item_members]
    if origin is dict or tp is dict or getattr(origin, "__name__", "") in ("Dict", "Mapping"):
        return {}
    if is_typeddict(tp):
        seen_types.add(tp.__name__)
        hints = get_type_hints(tp, include_extras=True)
        # `betas` is sent as the anthropic-beta header, never in the body.
        return {k: value(v, variant, k) for k, v in hints.items() if k != "betas"}
    if tp is str:
        if key in ("budget_tokens",):
            return 2048
        return STRING
    if tp is bool:
        return True
    if tp is int:
        return 2048
    if tp is float:
        return 0.5
    if tp is object or tp is typing.Any:
        return {}
    if isinstance(tp, typing.TypeVar):
        return {}
    raise TypeError(f"unhandled type {tp!r} at {key}")


def requests(root, label):
    out = []
    variant = 0
    while True:
        body = value(root, variant)
        body["stream"] = False
        out.append({"name": f"{label} variant {variant}", "body": body})
        variant += 1
        if variant >= max_union:
            return out


def main():
    from anthropic.types import message_create_params
    from anthropic.types.beta import message_create_params as beta_params

    found = requests(message_create_params.MessageCreateParamsNonStreaming, "messages")
    found += requests(beta_params.MessageCreateParamsNonStreaming, "beta messages")
    json.dump({"sdk": anthropic.__version__, "requests": found, "types": len(seen_types)}, sys.stdout)


if __name__ == "__main__":
    main()
