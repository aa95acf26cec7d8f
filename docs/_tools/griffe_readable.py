"""Griffe extension for the API pages: docstrings written for numpydoc and Sphinx read right.

- numpydoc lets one entry document several parameters (``max_iter, tol : float``). Griffe (2.4)
  gives every name of such an entry the default of the first name it finds in the signature,
  so the API page would show ``tol`` defaulting to 50. Each parameter's default is set from the
  signature when the docstring is parsed (lazily, for the objects a page renders).
- Sphinx roles (``:class:`~causalips.errors.DataError` ``) would show as ``:class:`` followed by
  code; they become plain code (``DataError``; the last part when the target starts with ~).

Loaded by mkdocs.yml; not part of the package.
"""

from __future__ import annotations

import re
from functools import cached_property

import griffe

_SPHINX_ROLE = re.compile(r":(?:class|meth|func|attr|mod|data|exc|obj):`(~?)([^`]+)`")


def _plain_code(match: re.Match) -> str:
    target = match.group(2)
    return f"`{target.rsplit('.', 1)[-1] if match.group(1) else target}`"


class _GroupedDefaultsDocstring(griffe.Docstring):
    @cached_property
    def parsed(self) -> list[griffe.DocstringSection]:
        sections = self.parse()
        try:
            signature = self.parent.parameters
        except AttributeError:  # modules and attributes have no parameters
            return sections
        for section in sections:
            if section.kind is griffe.DocstringSectionKind.parameters:
                for item in section.value:
                    if item.name in signature:
                        item.value = signature[item.name].default
        return sections


class ReadableDocstrings(griffe.Extension):
    def on_object(self, *, obj: griffe.Object, **kwargs) -> None:
        if obj.docstring is not None and type(obj.docstring) is griffe.Docstring:
            obj.docstring.__class__ = _GroupedDefaultsDocstring
            obj.docstring.value = _SPHINX_ROLE.sub(_plain_code, obj.docstring.value)
