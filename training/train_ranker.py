"""Train the learned ranker (see training/README.md). Same as ``matcher train ranker``."""

from matcher.cli import main

if __name__ == "__main__":
    import sys

    sys.argv = ["matcher", "train", "ranker", *sys.argv[1:]]
    main()
