"""The Examples in the DiD modules' docstrings run and print what they say."""

import doctest
import importlib

import pytest

import causalips
from causalips import panel
from causalips.datasets import norway
from causalips.did import event_study, impact, twfe

size_study = importlib.import_module("causalips.did.size_study")  # the name is also a function


@pytest.mark.parametrize("module", [panel, twfe, event_study, impact, size_study, norway],
                         ids=lambda m: m.__name__)
def test_docstring_examples(module):
    failures, tried = doctest.testmod(module, extraglobs={"ci": causalips},
                                      optionflags=doctest.NORMALIZE_WHITESPACE)
    assert tried > 0 and failures == 0
