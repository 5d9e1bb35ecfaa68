"""Fine-tune the encoder (see training/README.md). Same as ``matcher train encoder``."""

from matcher.cli import main

if __name__ == "__main__":
    import sys

    sys.argv = ["matcher", "train", "encoder", *sys.argv[1:]]
    main()
