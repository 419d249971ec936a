"""Every docstring in src/ parses as numpydoc without a warning.

``mkdocs build --strict`` (CI) renders the API reference from these docstrings and fails on any
parser warning; this test finds the same problems in a few seconds, inside ``python -m pytest``.
The usual cause is prose after a ``Parameters`` section: numpydoc reads it as more parameters
until the next section header, so start it with a ``Notes`` header.
"""

import logging
import re
from pathlib import Path

import pytest

griffe = pytest.importorskip("griffe")

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(scope="module")
def package():
    return griffe.load("chainrule", search_paths=[str(SRC)], docstring_parser="numpy",
                       docstring_options={"warn_missing_types": False}, allow_inspection=False)


def _objects(obj):
    yield obj
    for member in obj.members.values():
        if member.is_alias:
            continue
        yield from _objects(member)


def test_every_docstring_parses_as_numpydoc(package, caplog):
    problems = []
    with caplog.at_level(logging.WARNING):
        for obj in _objects(package):
            if obj.docstring is None:
                continue
            caplog.clear()
            obj.docstring.parse("numpy", warn_missing_types=False)
            problems += [f"{obj.path}: {record.getMessage()}" for record in caplog.records
                         if record.levelno >= logging.WARNING]
    assert not problems, "docstrings mkdocs --strict would reject:\n" + "\n".join(problems)


def test_docs_cross_references_name_existing_objects(package):
    """``[text][chainrule.module.Object]`` links in docs/ (resolved by mkdocs-autorefs)."""
    docs = SRC.parent / "docs"
    missing = []
    for page in sorted(docs.rglob("*.md")):
        for target in re.findall(r"\]\[(chainrule(?:\.\w+)*)\]", page.read_text(encoding="utf-8")):
            try:
                if target != "chainrule":
                    package[target.removeprefix("chainrule.")]
            except KeyError:
                missing.append(f"{page.relative_to(docs)}: {target}")
    assert not missing, "cross-references to objects that do not exist:\n" + "\n".join(missing)
