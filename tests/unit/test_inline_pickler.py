"""Inline programs all run in one process, where pulumi.dynamic's serialize_provider
deepens pickle's wrappers on every call (RecursionError after about 980): each program the
engine runs starts with the pickler of a fresh process, as under the CLI."""

from __future__ import annotations

import io
import pickle
from collections.abc import Iterator

import pytest
from pulumi.dynamic.dynamic import serialize_provider

from tooling.engine import fresh_pickler, in_a_fresh_pickler
from tooling.engine_probe import NoteProvider


@pytest.fixture(autouse=True)
def pristine() -> Iterator[None]:
    fresh_pickler()
    yield
    fresh_pickler()


def test_a_session_of_many_programs_never_outgrows_the_pickler() -> None:
    def program() -> None:
        serialize_provider(NoteProvider())
        # A dict goes through every wrapper serialize_provider has ever installed.
        pickle._Pickler(io.BytesIO()).dump({"key": "value"})

    run = in_a_fresh_pickler(program)
    for _ in range(1500):  # more serializations than one process survives unrestored
        run()
