"""The run folder: ``run.json``, the staging folder, and moving a finished run into place.

A run folder holds ``run.json`` (the run's full configuration and status),
``model/``, ``checkpoint.safetensors``, ``metrics.json``, ``history.csv`` and
plots. ``chainrule train`` writes all of them into ``<run>/.partial/`` while it
trains and moves them into ``<run>`` only when the run ends well
(:func:`commit`), so a folder never mixes files of two runs, and a failed or
diverged run never replaces a good model or checkpoint. An interrupted run
leaves ``.partial/`` behind; ``--resume <run>`` continues from its checkpoint.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import sys
import time

from ._common import CLIError

RUN_FILE = "run.json"
STAGING = ".partial"
CHECKPOINT = "checkpoint.safetensors"
RUN_FILES = (RUN_FILE, CHECKPOINT, "metrics.json", "history.csv", "model", "loss.png",
             "accuracy.png", "confusion_matrix.png", "predicted_vs_true.png", "diagnostics.json",
             "gradient_norms.png", "update_ratios.png", "dead_units.png")
"""Everything a run writes into its folder (all moved into place together)."""


def versions() -> dict:
    from .. import __version__
    from ..backend import host

    return {"chainrule": __version__, "numpy": host.__version__,
            "python": platform.python_version()}


def read_run(folder) -> dict | None:
    """The ``run.json`` of ``folder`` (None when there is none)."""
    path = os.path.join(folder, RUN_FILE)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as error:
        raise CLIError(f"{path}: cannot read the run description ({error})") from None
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise CLIError(f"{path}: not a chainrule run description (no 'config')")
    return document


def write_run(folder, config: dict, *, status: str, epochs_completed: int, result=None,
              created=None) -> dict:
    """Write ``folder/run.json`` atomically; return the document."""
    from ._common import atomic_json

    now = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    document = {"format": "chainrule-run", "format_version": 1, "status": status,
                "epochs_completed": epochs_completed, "config": config,
                "command": ["chainrule", *sys.argv[1:]], "versions": versions(),
                "created": created or now, "updated": now}
    if result is not None:
        document["result"] = result
    atomic_json(os.path.join(folder, RUN_FILE), document)
    return document


def holds_run(folder) -> bool:
    return any(os.path.exists(os.path.join(folder, name)) for name in RUN_FILES)


def check_out_folder(out, *, overwrite: bool, resuming_here: bool) -> None:
    """Refuse to start a run in a folder that holds another run (or anything) unless allowed."""
    if resuming_here or not os.path.exists(out):
        return
    if not os.path.isdir(out):
        raise CLIError(f"--out: {out} exists and is not a folder")
    if overwrite:
        return
    if os.path.isdir(os.path.join(out, STAGING)) and not holds_run(out):
        raise CLIError(f"--out: {out} holds an interrupted run; continue it with --resume {out}, "
                       "or start again with --overwrite")
    if holds_run(out):
        raise CLIError(f"--out: {out} already holds a run; continue it with --resume {out}, "
                       "replace it with --overwrite, or choose another --out")
    if os.listdir(out):
        raise CLIError(f"--out: {out} exists and is not empty; choose another --out or give "
                       "--overwrite (only the run's own files are replaced)")


def resolve_resume(source):
    """(run folder, checkpoint path, run.json document or None) for ``--resume RUN_OR_CKPT``.

    A run folder resumes from its interrupted ``.partial/`` checkpoint when there
    is one, else from its own checkpoint.
    """
    if os.path.isdir(source):
        folder = source.rstrip("/\\") or source
        if os.path.basename(os.path.abspath(folder)) == STAGING:
            folder = os.path.dirname(os.path.abspath(folder))
        partial = os.path.join(folder, STAGING, CHECKPOINT)
        if os.path.isfile(partial):
            return folder, partial, read_run(os.path.join(folder, STAGING)) or read_run(folder)
        checkpoint = os.path.join(folder, CHECKPOINT)
        if not os.path.isfile(checkpoint):
            raise CLIError(f"--resume: {folder} holds no {CHECKPOINT} (is it a run folder?)")
        return folder, checkpoint, read_run(folder)
    if not os.path.isfile(source):
        raise CLIError(f"--resume: no run folder or checkpoint at {source}")
    here = os.path.dirname(os.path.abspath(source))
    if os.path.basename(here) == STAGING:
        return os.path.dirname(here), source, read_run(here) or read_run(os.path.dirname(here))
    return here, source, read_run(here)


def prepare_staging(out, keep: bool) -> str:
    """Create ``out/.partial`` (emptied unless ``keep``, when a run resumes from it)."""
    staging = os.path.join(out, STAGING)
    if os.path.isdir(staging) and not keep:
        shutil.rmtree(staging)
    try:
        os.makedirs(staging, exist_ok=True)
        probe = os.path.join(staging, ".write-test")
        with open(probe, "wb") as handle:
            handle.write(b"ok")
        os.remove(probe)
    except OSError as error:
        raise CLIError(f"--out: cannot write to {out} ({error.strerror or error})") from None
    return staging


def commit(staging, out, *, overwrite: bool) -> None:
    """Move the staged run's files into ``out``; ``run.json`` last, then remove the staging.

    With ``overwrite``, run files of the old run that this run did not write go too.
    """
    staged = set(os.listdir(staging))
    if overwrite or os.path.isfile(os.path.join(out, RUN_FILE)):
        for name in RUN_FILES:
            target = os.path.join(out, name)
            if name not in staged and os.path.lexists(target):
                shutil.rmtree(target) if os.path.isdir(target) else os.remove(target)
    for name in sorted(staged - {RUN_FILE}) + [RUN_FILE]:
        source, target = os.path.join(staging, name), os.path.join(out, name)
        if not os.path.lexists(source):
            continue
        if os.path.isdir(source):
            old = os.path.join(out, f".{name}.old")
            if os.path.lexists(target):
                os.replace(target, old)
            os.replace(source, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(source, target)
    shutil.rmtree(staging, ignore_errors=True)


def discard(staging, *, remove_out: bool = False) -> None:
    """Remove the staging folder (and the run folder when this run created it and it is empty)."""
    shutil.rmtree(staging, ignore_errors=True)
    out = os.path.dirname(staging)
    if remove_out and os.path.isdir(out) and not os.listdir(out):
        os.rmdir(out)
