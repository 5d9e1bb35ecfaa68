"""How many demo seekers who want to work abroad have a programme open to them.

Run: .venv/bin/python training/programme_reach.py [--profiles 500] [--seed 7]

The demo profiles are the ones ``make run`` loads (``DemoGenerator``, seed 7). A programme is
open to a person when no fact they declared rules it out (``eligible`` or ``eligible_if``):
its postings are then shown to them. Prints the count and the programme verdicts.
"""

from __future__ import annotations

import argparse

from matcher.services import MatcherService
from matcher.settings import Settings
from matcher.training.programme_reach import programme_reach


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", type=int, default=500)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    settings = Settings()
    service = MatcherService(settings)
    reach = programme_reach(service.taxonomy, service.programmes, settings.project_data_dir,
                            profiles=args.profiles, seed=args.seed)  # fmt: skip
    print(reach.table())
    service.close()


if __name__ == "__main__":
    main()
