"""Write the encoder's training pairs and data card (see training/README.md). Same as
``matcher train datasets OUT_DIR``."""

import sys

from matcher.cli import main

if __name__ == "__main__":
    main(["train", "datasets", *sys.argv[1:]])
