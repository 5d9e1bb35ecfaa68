"""Fine-tune the encoder (see training/README.md). Same as ``matcher train encoder``."""

import sys

from matcher.cli import main

if __name__ == "__main__":
    main(["train", "encoder", *sys.argv[1:]])
