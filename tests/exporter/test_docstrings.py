"""The library's docstring examples: those written with >>> run as doctests; the others are plain text."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import quantwatch

MODULES = sorted(info.name for info in pkgutil.iter_modules(quantwatch.__path__, "quantwatch."))


@pytest.mark.parametrize("name", ["quantwatch", *MODULES])
def test_docstring_examples_run(name: str) -> None:
    """Every >>> example of the module runs and prints what it shows."""
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
