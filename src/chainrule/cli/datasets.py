"""``chainrule datasets``: list the named datasets, their task, source and availability."""

from __future__ import annotations

import json

from ._common import EXIT_OK, add_command, table


def add_parser(subparsers):
    p = add_command(subparsers, "datasets",
                    "list the datasets, where they come from and whether they are available",
                    "List the named datasets with their task, source and availability on this "
                    "machine.", run)
    p.add_argument("--json", action="store_true", help="print as JSON")
    return p


def run(args) -> int:
    from ..data import datasets

    infos = datasets.list_datasets()
    if args.json:
        print(json.dumps([info.as_dict() for info in infos], indent=2))
        return EXIT_OK
    rows = [[i.name, i.task, "yes" if i.available else "no", i.source, i.note] for i in infos]
    print(table(["name", "task", "available", "source", "note"], rows))
    print("\nAny folder of MNIST-format IDX files, .csv or .npz file also works as --data PATH.")
    return EXIT_OK
