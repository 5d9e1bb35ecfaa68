"""The encoder and its runtimes, model import, label indexes, occupation matching, skill extraction."""
