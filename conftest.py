"""Runs every ```python block of README.md and the docs' Markdown pages as a test (with Sybil).

The blocks of one page share a namespace, in order, like a notebook; a block written as a
doctest (``>>>``) is checked against its printed output. Each page runs in a fresh temporary
folder, so examples that write files leave nothing behind. ``<!-- skip: next -->`` before a
block skips it (for blocks that need data or hardware a test machine lacks).
"""

import doctest
import os
import tempfile

from sybil import Sybil
from sybil.parsers.markdown import PythonCodeBlockParser, SkipParser


def _enter_temporary_folder(namespace):
    namespace["__docs_previous_cwd__"] = os.getcwd()
    namespace["__docs_tmpdir__"] = tempfile.TemporaryDirectory(prefix="chainrule-docs-")
    os.chdir(namespace["__docs_tmpdir__"].name)


def _leave_temporary_folder(namespace):
    os.chdir(namespace["__docs_previous_cwd__"])
    namespace["__docs_tmpdir__"].cleanup()


pytest_collect_file = Sybil(
    parsers=[
        PythonCodeBlockParser(doctest_optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE),
        SkipParser(),
    ],
    patterns=["*.md"],
    setup=_enter_temporary_folder,
    teardown=_leave_temporary_folder,
).pytest()
