"""``chainrule train``: train a preset (or an architecture JSON) on a dataset and save the run.

The run's full configuration goes into ``run.json``; ``--resume RUN_OR_CKPT``
continues that run with it (flags given override it, each with a note). The
run is written into a staging folder and moved into place only when it ends
well (see :mod:`chainrule.cli._run`); a diverged run (a NaN or infinite loss,
or an epoch loss more than :data:`DIVERGENCE_FACTOR` times the first batch's)
changes nothing and exits with status 1.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass

from ..optim import OPTIMIZERS
from ..train import Callback
from . import _run
from ._common import (
    EXIT_ERROR,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    CLIError,
    add_command,
    argument,
    atomic_json,
    blas_threads,
    fraction,
    non_negative_int,
    one_line,
    positive_float,
    positive_int,
    task_setup,
    threads_text,
    xp,
)

DIVERGENCE_FACTOR = 100.0
"""An epoch whose mean training loss exceeds this many times the run's first batch loss diverged."""


_hidden_sizes = argument(lambda text: [int(v) for v in text.split(",")],
                         lambda v: len(v) > 0 and all(h >= 1 for h in v),
                         "positive integers separated by commas, like 256,128")
_dropout = argument(float, lambda v: 0.0 <= v < 1.0, "a number in [0, 1)")
_weight_decay = argument(float, lambda v: v >= 0 and math.isfinite(v), "a number >= 0")

DEFAULTS = {"data": "digits", "model": "mlp", "seed": 0, "threads": 1, "val_split": 0.1,
            "standardize": True, "test_data": None, "target": None, "task": None, "hidden": None,
            "dropout": None, "weight_decay": None, "patience": None, "max_data_mb": None,
            "init_from": None, "diagnose": None}
"""Settings that do not depend on the data; the rest come from :func:`presets.training_defaults`."""

LOCKED_ON_RESUME = ("data", "test_data", "target", "task", "standardize", "max_data_mb", "model",
                    "hidden", "dropout", "optimizer", "seed", "val_split", "init_from")
"""Settings a resumed run cannot change: the checkpoint's weights, optimizer state and data split
depend on them."""


def add_parser(subparsers):
    p = add_command(subparsers, "train", "train a model on a dataset and save the run",
                    "Train a preset (or a model from an architecture JSON) on a dataset; save "
                    "run.json, the model, a checkpoint, metrics.json, history.csv and plots in "
                    "the run folder.", run)
    p.add_argument("--data", metavar="NAME|PATH",
                   help="dataset name (see 'chainrule datasets') or a path to an IDX folder, "
                        ".csv or .npz file (default: digits)")
    p.add_argument("--test-data", metavar="PATH",
                   help="a second .csv/.npz file used as the test split (then all of --data "
                        "trains)")
    p.add_argument("--target", metavar="NAME|INDEX",
                   help="CSV: the target column by name or 0-based index (default: a column "
                        "named target/label/y/class, else the last)")
    p.add_argument("--task", choices=["classification", "regression"],
                   help="override the task inferred from the targets")
    p.add_argument("--max-data-mb", type=positive_int, metavar="MB",
                   help="the largest file (after decompression) the loaders read, in MiB "
                        "(default: 256)")
    p.add_argument("--model", metavar="mlp|cnn|gru|lstm|CONFIG.json",
                   help="model preset or an architecture JSON (default: mlp)")
    p.add_argument("--hidden", type=_hidden_sizes, metavar="W1,W2,...",
                   help="hidden sizes: mlp widths (default 512,256), cnn hidden width (128), "
                        "gru/lstm hidden size per layer (64)")
    p.add_argument("--dropout", type=_dropout, metavar="P",
                   help="dropout probability of the mlp (default 0.5) and cnn (0.3) presets")
    p.add_argument("--epochs", type=positive_int, metavar="N",
                   help="epochs (default: the preset's; fewer for training sets of 20000+ "
                        "samples)")
    p.add_argument("--batch-size", type=positive_int, metavar="N",
                   help="mini-batch size (default: the preset's)")
    p.add_argument("--lr", type=positive_float, metavar="F",
                   help="learning rate (default: the preset's)")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS),
                   help="optimizer (default: the preset's, adam); sgd uses momentum 0.9")
    p.add_argument("--weight-decay", type=_weight_decay, metavar="L2",
                   help="weight decay of the optimizer (default: the optimizer's own)")
    p.add_argument("--schedule", choices=["cosine", "constant"],
                   help="learning-rate schedule: 'cosine' decays from --lr towards 0 over the "
                        "epochs (default: the preset's, cosine)")
    p.add_argument("--patience", type=positive_int, metavar="N",
                   help="stop early when the validation loss has not improved for N epochs, "
                        "and keep the best epoch's weights")
    p.add_argument("--threads", type=non_negative_int, metavar="N",
                   help="BLAS threads during training (default: 1, fastest for chainrule's "
                        "small matrices and safe on a shared machine; 0 leaves the BLAS default)")
    p.add_argument("--seed", type=non_negative_int, metavar="N",
                   help="seed for initialisation, shuffling and dropout (default: 0)")
    p.add_argument("--out", metavar="DIR", help="run folder (default: runs/<data>-<model>-<time>)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the run in --out (by default an existing run is refused)")
    p.add_argument("--resume", metavar="RUN_OR_CKPT",
                   help="continue a run (its folder or checkpoint) with its run.json settings; "
                        "flags given override them")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-standardize", dest="standardize", action="store_false", default=None,
                   help="do not standardise the features with training-set mean and std "
                        "(default: standardise)")
    p.add_argument("--val-split", type=fraction, metavar="F",
                   help="fraction of the training set held out for validation (default: 0.1)")
    p.add_argument("--diagnose", action="store_true", default=None,
                   help="record training health (per-layer gradient norms, update ratios, dead "
                        "and saturated units; chainrule.diagnostics.TrainingHealth): write "
                        "diagnostics.json and its plots, and print its warnings at the end")
    p.add_argument("--init-from", metavar="RUN|STATE.safetensors",
                   help="start from the weights of a run, a model folder or a safetensors state "
                        "dict (for example exported from PyTorch); weights whose name or shape "
                        "differ, such as a head for another number of classes, stay as "
                        "initialised")
    p.add_argument("--ranks", type=positive_int, metavar="N",
                   help="train on N processes (data parallel over MPI: launches mpiexec; "
                        "the same weights as one process; needs chainrule[mpi])")
    return p


# ------------------------------------------------------------ configuration
_FLAG = {"data": "--data", "test_data": "--test-data", "target": "--target", "task": "--task",
         "max_data_mb": "--max-data-mb", "model": "--model", "hidden": "--hidden",
         "dropout": "--dropout", "epochs": "--epochs", "batch_size": "--batch-size",
         "lr": "--lr", "optimizer": "--optimizer", "weight_decay": "--weight-decay",
         "schedule": "--schedule", "patience": "--patience", "threads": "--threads",
         "seed": "--seed", "standardize": "--no-standardize", "val_split": "--val-split",
         "init_from": "--init-from", "diagnose": "--diagnose"}
_PRESET_KEYS = ("epochs", "lr", "batch_size", "optimizer", "schedule", "clip_grad_norm")


def _given(args) -> dict:
    """The settings given on the command line (the rest are None)."""
    return {key: getattr(args, key) for key in _FLAG if getattr(args, key) is not None}


def _resume_config(saved: dict, given: dict, source) -> dict:
    """The resumed run's configuration: ``saved`` with the allowed flags given, each noted."""
    config = dict(saved)
    for key, value in given.items():
        if value == saved.get(key):
            continue
        if key in LOCKED_ON_RESUME:
            raise CLIError(f"{_FLAG[key]}: a resumed run keeps its {key} ({saved.get(key)!r}); "
                           f"received {value!r}; start a new run with --out to change it")
        print(f"note: {_FLAG[key]} {value} overrides the run's {key} {saved.get(key)!r}")
        config[key] = value
    return config


def _complete(config: dict, num_train: int) -> dict:
    """Fill the settings still unset with the preset's defaults for this training-set size."""
    from .. import presets

    name = config["model"].lower() if config["model"].lower() in presets.PRESETS else None
    defaults = presets.training_defaults(name, num_train)
    return {**config, **{k: defaults[k] for k in _PRESET_KEYS if config.get(k) is None}}


def _load_bundle(config):
    from ..data import datasets

    options = {}
    if config.get("target") is not None:
        options["target"] = config["target"]
    try:
        bundle = datasets.load(
            config["data"], standardize=config["standardize"], task=config.get("task"),
            test_data=config.get("test_data"),
            max_bytes=None if config.get("max_data_mb") is None else config["max_data_mb"] << 20,
            **options)
    except TypeError as error:
        if "target" in options and "does not take option(s) ['target']" in str(error):
            raise CLIError(f"--target applies to CSV files; {config['data']} is not one") from None
        raise
    for note in bundle.notes:
        print(f"note: {note}")
    return bundle


def build_model(spec, bundle, hidden=None, dropout=None):
    """The model ``--model`` names (a preset or an architecture JSON) and its short name."""
    from .. import io, presets

    if spec.lower() in presets.PRESETS:
        try:
            model = presets.build_preset(spec.lower(), bundle.input_shape, bundle.num_outputs,
                                         bundle.image_shape, hidden=hidden, dropout=dropout)
        except ValueError as error:
            raise CLIError(f"--model {spec}: {error}") from None
        return model, spec.lower()
    if hidden is not None or dropout is not None:
        raise CLIError(f"--hidden/--dropout apply to the presets {presets.preset_names()}; "
                       f"{spec} fixes its own layers")
    if not os.path.isfile(spec):
        raise CLIError(f"--model: expected one of {presets.preset_names()} or a config .json "
                       f"file, received {spec!r} (no such file)")
    with open(spec, "rb") as handle:
        try:
            document = json.loads(handle.read())
        except ValueError as error:
            raise CLIError(f"--model: {spec} is not valid JSON ({error})") from None
    tree = document.get("architecture", document) if isinstance(document, dict) else document
    return io.build_model(tree), os.path.splitext(os.path.basename(spec))[0]


def _init_from(model, config) -> None:
    """``--init-from``: copy the matching weights of a run or a state dict into the new model."""
    from ..transfer import load_pretrained

    source = config["init_from"]
    if not os.path.exists(source):
        raise CLIError(f"--init-from: no run folder, model folder or .safetensors file at {source}")
    try:
        report = load_pretrained(model, source)
    except ValueError as error:
        raise CLIError(f"--init-from: {error}") from None
    config["init_from"] = os.path.abspath(source)
    kept = report["skipped"] + report["missing"]
    print(f"note: --init-from {source}: {len(report['loaded'])} tensors loaded"
          + (f"; kept as initialised: {', '.join(kept)}" if kept else "")
          + (f"; ignored from the file: {', '.join(report['unexpected'])}"
             if report["unexpected"] else ""))


def _make_optimizer(name, params, lr, weight_decay):
    """The library's optimizer ``name`` (:func:`chainrule.optim.get_optimizer`); sgd with
    momentum 0.9."""
    from ..optim import get_optimizer

    kwargs = {"lr": lr}
    if name == "sgd":
        kwargs["momentum"] = 0.9
    if weight_decay is not None:
        kwargs["weight_decay"] = weight_decay
    return get_optimizer(name, params, **kwargs)


def _default_out(data, model_name):
    stamp = time.strftime("%Y%m%d-%H%M%S")
    base = os.path.join("runs", f"{os.path.basename(str(data).rstrip('/'))}-{model_name}-{stamp}")
    path, k = base, 1
    while os.path.exists(path):
        k += 1
        path = f"{base}-{k}"
    return path


# ---------------------------------------------------------------- callbacks
class DivergenceGuard(Callback):
    """Stop on a NaN/inf batch loss, or an epoch loss over DIVERGENCE_FACTOR × the first."""

    def __init__(self):
        self.reason = None
        self.initial = None

    def on_batch_end(self, batch, logs=None):
        loss = float((logs or {}).get("loss", 0.0))
        if not math.isfinite(loss):
            self.reason = f"the loss became {loss} in batch {batch + 1}"
            self.stop_training = True
        elif self.initial is None:
            self.initial = abs(loss)

    def on_epoch_end(self, epoch, logs=None):
        loss = float((logs or {}).get("loss", 0.0))
        limit = DIVERGENCE_FACTOR * max(self.initial or 0.0, 1e-8)
        if self.reason is None and math.isfinite(loss) and loss > limit:
            self.reason = (f"the training loss grew to {loss:.4g} in epoch {epoch + 1}, over "
                           f"{DIVERGENCE_FACTOR:g} times the first batch's {self.initial:.4g}")
            self.stop_training = True

    def state_dict(self):
        return {"initial": self.initial}

    def load_state_dict(self, state):
        self.initial = state.get("initial")


class Schedule(Callback):
    """The learning rate after a restore: overrides, then the library's cosine scheduler
    resumed at the run's epoch (its closed form, so a changed --epochs retargets it)."""

    def __init__(self, config, resuming):
        self.config = config
        self.resuming = resuming
        self.scheduler = None

    def on_train_begin(self, logs=None):
        from ..optim import lr_scheduler

        config = self.config
        for group in self.optimizer.param_groups:
            if self.resuming:
                group["lr"] = group["initial_lr"] = config["lr"]
                if config.get("weight_decay") is not None:
                    group["weight_decay"] = config["weight_decay"]
            group.setdefault("initial_lr", group["lr"])
        if config["schedule"] == "cosine":
            self.scheduler = lr_scheduler.CosineAnnealingLR(
                self.optimizer, T_max=config["epochs"],
                last_epoch=self.trainer.initial_epoch - 1)

    def on_epoch_end(self, epoch, logs=None):
        if self.scheduler is not None:
            self.scheduler.step()


def _callbacks(config, staging, *, resuming):
    """The run's callbacks, in a fixed order (checkpoint states are keyed by position)."""
    from .. import train as training

    guard = DivergenceGuard()
    callbacks = [guard, training.CSVLogger(os.path.join(staging, "history.csv")),
                 Schedule(config, resuming)]
    stopper = None
    if config.get("patience"):
        monitor = "val_loss" if config["val_split"] else "loss"
        stopper = training.EarlyStopping(monitor=monitor, patience=config["patience"],
                                         restore_best_weights=True)
        callbacks.append(stopper)
    callbacks.append(training.ModelCheckpoint(os.path.join(staging, _run.CHECKPOINT)))
    health = None
    if config.get("diagnose"):
        from ..diagnostics import TrainingHealth

        health = TrainingHealth(every=10, verbose=False)
        callbacks.append(health)
    return callbacks, guard, stopper, health


# -------------------------------------------------------------------- train
def _preflight(model, bundle, loss, batch_size):
    """Everything that can fail before training: the packages files need, and one forward and
    loss on two samples."""
    from .. import train as training

    try:
        import safetensors  # noqa: F401 - model and checkpoint files are safetensors
    except ImportError:
        raise CLIError("train: saving the model needs safetensors (pip install safetensors, or "
                       "pip install 'chainrule[io]')") from None
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("note: matplotlib is not installed; the run will have no plots "
              "(pip install matplotlib)")
    sample = (bundle.X_train[:2], bundle.y_train[:2])
    try:
        training.evaluate(model, sample, loss=loss, batch_size=min(batch_size, 2))
    except (ValueError, TypeError) as error:
        raise CLIError(f"--model: the model does not fit the data {bundle.name!r} "
                       f"(input {tuple(bundle.input_shape)}, {bundle.num_outputs} outputs): "
                       f"{error}") from None


def _seed_history(staging, checkpoint_path):
    """Write the checkpoint's history as the staging ``history.csv``, so the CSV logger
    continues it with no row twice (a kill between a row and its checkpoint left one)."""
    from .. import io
    from ..train import History

    saved = io.load_checkpoint(checkpoint_path)
    path = os.path.join(staging, "history.csv")
    if saved.history and saved.history.get("epoch"):
        History.from_dict(saved.history).to_csv(path)
    elif os.path.exists(path):
        os.remove(path)
    return saved.epoch


def run(args) -> int:
    """Train in this process, or launch ``--ranks N`` processes that train together."""
    from ..distributed import launch

    if args.ranks is not None and args.ranks > 1 and not launch.inside_job():
        return launch.launch(["-m", "chainrule", *args.argv], args.ranks, name="chainrule train")
    strategy = None
    if launch.inside_job():
        from ..distributed import DataParallel

        strategy = DataParallel(ranks=args.ranks)
    return launch.run_as_rank(_run_training, args, strategy)


def _run_training(args, strategy) -> int:
    from ..rng import manual_seed

    main = strategy is None or strategy.is_main  # only the main process writes the run

    given = _given(args)
    resume = None
    if args.resume:
        folder, checkpoint_path, document = _run.resolve_resume(args.resume)
        if document is None:
            print(f"note: {folder} has no {_run.RUN_FILE} (a run from an older chainrule); "
                  "using the flags given and the defaults")
            config = {**DEFAULTS, **given}
        else:
            config = _resume_config(document["config"], given, folder)
        resume = {"folder": folder, "checkpoint": checkpoint_path, "document": document}
    else:
        config = {**DEFAULTS, **given}
    out = args.out or (resume["folder"] if resume else None)
    in_place = resume is not None and out is not None and \
        os.path.abspath(out) == os.path.abspath(resume["folder"])
    if out is not None:
        _run.check_out_folder(out, overwrite=args.overwrite, resuming_here=in_place)

    bundle = _load_bundle(config)
    manual_seed(config["seed"])
    model, model_name = build_model(config["model"], bundle, config.get("hidden"),
                                    config.get("dropout"))
    config = _complete(config, len(bundle.X_train))
    if config.get("init_from") and resume is None:
        _init_from(model, config)
    document = resume["document"] if resume else None
    if document and document.get("status") == "finished" and \
            given.get("epochs", 0) <= document.get("epochs_completed", 0):
        print(f"run {resume['folder']} already finished {document['epochs_completed']} epochs; "
              "nothing to do, nothing changed (give --epochs N with more epochs to train "
              "further)")
        return EXIT_OK
    optimizer = _make_optimizer(config["optimizer"], model.parameters(), config["lr"],
                                config.get("weight_decay"))
    loss, metrics = task_setup(bundle)
    _preflight(model, bundle, loss, config["batch_size"])
    if out is None:
        out = _default_out(config["data"], model_name)
    plan = _Plan(args, config, bundle, model, model_name, optimizer, loss, metrics, resume, out,
                 strategy)
    created_out = not os.path.exists(out)
    from_staging = resume is not None and in_place and \
        os.path.dirname(os.path.abspath(resume["checkpoint"])) == \
        os.path.abspath(os.path.join(out, _run.STAGING))
    staging = _run.prepare_staging(out, keep=from_staging) if main else None
    try:
        return _train(plan, staging)
    except KeyboardInterrupt:
        if not main:
            return EXIT_INTERRUPTED
        done = _checkpoint_epoch(staging)
        if done is None:
            _run.discard(staging, remove_out=created_out)
            print("chainrule: interrupted before the first epoch ended; nothing was saved",
                  file=sys.stderr)
        else:
            print(f"chainrule: interrupted; {done} epochs are saved in "
                  f"{os.path.join(out, _run.STAGING)}; continue with: chainrule train --resume "
                  f"{out}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except _Diverged as error:
        if main:
            _run.discard(staging, remove_out=created_out)
        kept = "the run folder is unchanged" if _run.holds_run(out) else "nothing was saved"
        raise CLIError(f"training diverged: {error}; {kept}; try a smaller --lr (now "
                       f"{config['lr']:g})", exit_status=EXIT_FAILED) from None
    except Exception as error:
        if not main:
            raise
        message = one_line(error)
        if isinstance(error, OSError) and not error.filename:  # ENOSPC and the like
            message = f"{message} (writing {staging})"
        done = _checkpoint_epoch(staging)
        if done is None:
            _run.discard(staging, remove_out=created_out)
            if message == one_line(error):
                raise
            raise CLIError(message) from error
        raise CLIError(f"{message}; the run folder is unchanged; {done} epochs are saved in "
                       f"{staging}: continue with chainrule train --resume {out}",
                       exit_status=EXIT_ERROR) from error


class _Diverged(Exception):
    """Raised inside :func:`_train` when the divergence guard stopped the run."""


@dataclass
class _Plan:
    """What ``run`` worked out before training; :func:`_train` carries it out."""

    args: object
    config: dict
    bundle: object
    model: object
    model_name: str
    optimizer: object
    loss: str
    metrics: list
    resume: dict | None
    out: str
    strategy: object = None


def _train(plan: _Plan, staging: str) -> int:
    """Train into ``staging``, save the model, metrics and plots there, and move them into
    the run folder."""
    from .. import io
    from .. import train as training

    config, bundle, model, resume, out = plan.config, plan.bundle, plan.model, plan.resume, \
        plan.out
    document = resume["document"] if resume else None
    main = staging is not None
    if resume and main:
        _seed_history(staging, resume["checkpoint"])
    created = document.get("created") if document else None
    if main:
        _run.write_run(staging, config, status="running", epochs_completed=0, created=created)
    callbacks, guard, stopper, health = _callbacks(config, staging or out,
                                                   resuming=resume is not None)
    n_params = sum(int(p.data.size) for p in model.parameters())
    print(f"chainrule train: {plan.model_name} ({n_params:,} parameters) on {bundle.name} "
          f"({len(bundle.X_train)} train / {len(bundle.X_test)} test), {config['epochs']} "
          f"epochs, {config['optimizer']} lr={config['lr']:g} ({config['schedule']}), batch "
          f"{config['batch_size']}, seed {config['seed']}, {threads_text(config['threads'])}")
    print(f"run folder: {out}" + (f" (resuming from {resume['checkpoint']})" if resume else ""))
    started = time.perf_counter()
    with blas_threads(config["threads"]), warnings.catch_warnings():
        # NumPy's overflow warnings of a diverging run: the divergence guard reports it, once
        warnings.simplefilter("ignore", RuntimeWarning)
        history = training.fit(
            model, (bundle.X_train, bundle.y_train), loss=plan.loss, optimizer=plan.optimizer,
            epochs=config["epochs"], batch_size=config["batch_size"],
            validation_split=config["val_split"], metrics=plan.metrics, callbacks=callbacks,
            progress=not plan.args.no_progress, resume_from=resume and resume["checkpoint"],
            verbose=1, clip_grad_norm=config.get("clip_grad_norm"), strategy=plan.strategy,
        )
    train_time = time.perf_counter() - started
    if not main:  # the main process alone evaluates and writes the run
        return EXIT_OK
    if guard.reason is not None:
        raise _Diverged(guard.reason)
    if stopper is not None and stopper.stopped_epoch >= 0:
        print(f"early stopping: {stopper.monitor} did not improve for {config['patience']} "
              f"epochs; stopped after epoch {stopper.stopped_epoch + 1}, restored the weights "
              f"of epoch {stopper.best_epoch + 1} ({stopper.monitor} {stopper.best:.4g})")
    with blas_threads(config["threads"]):
        results = training.evaluate(model, (bundle.X_test, bundle.y_test), loss=plan.loss,
                                    metrics=plan.metrics)
        test_pred = training.predict(model, bundle.X_test)
    io.save(model, os.path.join(staging, "model"), info=_model_info(bundle, config))
    summary = {
        "data": bundle.name, "model": plan.model_name, "task": bundle.task,
        "parameters": n_params, "epochs": len(history.epoch),
        "batch_size": config["batch_size"], "optimizer": config["optimizer"],
        "lr": config["lr"], "schedule": config["schedule"], "threads": config["threads"],
        "seed": config["seed"], "val_split": config["val_split"],
        "train_time_s": round(train_time, 3),
        **{f"test_{k}": v for k, v in results.items()},
        **{f"final_{k}": v for k, v in history.last().items() if k not in ("epoch_time",)},
    }
    atomic_json(os.path.join(staging, "metrics.json"), summary)
    from .plots import save_plots

    plots = save_plots(staging, history, bundle, test_pred)
    if health is not None:
        health.save(os.path.join(staging, "diagnostics.json"))
        if plots:
            health.plot(staging)
    _run.write_run(staging, config, status="finished", epochs_completed=len(history.epoch),
                   created=created,
                   result={k: v for k, v in summary.items() if k.startswith("test_")})
    _run.commit(staging, out, overwrite=plan.args.overwrite)
    shown = ", ".join(f"test_{k}: {v:.4f}" for k, v in results.items())
    print(f"{shown}  ({train_time:.1f} s)")
    if health is not None:
        found = health.warnings()
        print(f"diagnostics: {len(found)} warning{'' if len(found) == 1 else 's'}"
              + (" (see diagnostics.json and gradient_norms.png, update_ratios.png, "
                 "dead_units.png)" if plots else " (see diagnostics.json)"))
        for line in found:
            print(f"  warning: {line}")
    print(f"saved run.json, model, checkpoint, metrics.json, history.csv"
          f"{', diagnostics' if health is not None else ''}{', plots' if plots else ''} to {out}")
    return EXIT_OK


def _checkpoint_epoch(staging):
    path = os.path.join(staging, _run.CHECKPOINT)
    if not os.path.isfile(path):
        return None
    from .. import io

    try:
        return io.load_checkpoint(path).epoch
    except Exception:  # noqa: BLE001 - a torn checkpoint counts as none
        return None


def _model_info(bundle, config) -> dict:
    """What ``predict`` and ``evaluate`` need to treat new data as training did."""
    np_ = xp()
    return {
        "task": bundle.task, "data": str(config["data"]), "standardize": config["standardize"],
        "target": config.get("target"), "test_data": config.get("test_data"),
        "num_classes": bundle.num_classes, "class_names": bundle.class_names,
        "feature_names": bundle.feature_names, "target_name": bundle.target_name,
        "input_shape": list(bundle.input_shape), "init_from": config.get("init_from"),
        "image_shape": None if bundle.image_shape is None else list(bundle.image_shape),
        "feature_mean": None if bundle.feature_mean is None
        else np_.asarray(bundle.feature_mean).tolist(),
        "feature_scale": None if bundle.feature_scale is None
        else np_.asarray(bundle.feature_scale).tolist(),
    }
