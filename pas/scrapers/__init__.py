"""QuiverQuant scrapers: the client, one module per dataset, and the scrape itself.

Importing this package loads the dataset modules but none of the heavy libraries
(``requests``, ``tenacity`` are imported when a request is made).
"""

from __future__ import annotations

from pas.errors import InputError
from pas.scrapers import congress, contracts, insiders, lobbying, wiki
from pas.scrapers.base import Dataset

DATASETS: dict[str, Dataset] = {
    d.name: d for d in (congress.DATASET, lobbying.DATASET, wiki.DATASET, insiders.DATASET, contracts.DATASET)
}
ALIASES: dict[str, str] = {alias: d.name for d in DATASETS.values() for alias in d.aliases}


def resolve(name: str) -> list[Dataset]:
    """The datasets a name stands for: ``all``, a dataset name, or one of the seed's aliases.

    Raises:
        InputError: an unknown name (the message lists the known ones).
    """
    key = name.strip().lower()
    if key == "all":
        return list(DATASETS.values())
    key = ALIASES.get(key, key)
    if key not in DATASETS:
        known = ", ".join([*DATASETS, "all"])
        raise InputError(f"unknown dataset {name!r}; use one of: {known}")
    return [DATASETS[key]]
