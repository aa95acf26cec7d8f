"""The Examples in the foundation's public docstrings run and print what they say."""

from __future__ import annotations

import doctest

import pytest

import causalips
from causalips import io, replication, spells
from causalips.survival import kaplan_meier, logrank


@pytest.mark.parametrize("module", [spells, kaplan_meier, logrank, io, replication],
                         ids=lambda m: m.__name__)
def test_docstring_examples(module):
    failures, tried = doctest.testmod(module, extraglobs={"ci": causalips},
                                      optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0
