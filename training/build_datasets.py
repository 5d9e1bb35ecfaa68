"""Write the encoder's training pairs and data card (see training/README.md). Same as
``matcher train datasets OUT_DIR``."""

from matcher.cli import main

if __name__ == "__main__":
    import sys

    sys.argv = ["matcher", "train", "datasets", *sys.argv[1:]]
    main()
