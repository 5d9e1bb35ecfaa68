"""Train the learned ranker (see training/README.md). Same as ``matcher train ranker``."""

import sys

from matcher.cli import main

if __name__ == "__main__":
    main(["train", "ranker", *sys.argv[1:]])
