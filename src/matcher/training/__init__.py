"""Offline training and evaluation: datasets, fine-tuning, evaluation, the promotion gate,
pipelines. Imports the services; never imported by them (nor by anything but the CLI and the
``training/`` entry points)."""
