"""Every module's docstring examples run, and pass (the examples are documentation)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import types

import pytest

import describe_images

# __main__ runs the CLI when imported: it has no examples, and is not imported here.
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(describe_images.__path__, f"{describe_images.__name__}.")
    if not info.name.endswith(".__main__")
)


def test_every_module_is_listed() -> None:
    assert "describe_images._pairs" in MODULES
    assert "describe_images.server" in MODULES
    assert len(MODULES) >= 15


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module: types.ModuleType = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    for test in finder.find(module, name):
        runner.run(test)
    results = runner.summarize(verbose=False)
    assert results.failed == 0


def test_the_public_functions_have_examples() -> None:
    # A public function's docstring carries one runnable example (../STYLE: comments and docs).
    attempted = 0
    for name in MODULES:
        module = importlib.import_module(name)
        for test in doctest.DocTestFinder(exclude_empty=True).find(module, name):
            attempted += len(test.examples)
    assert attempted >= 39
