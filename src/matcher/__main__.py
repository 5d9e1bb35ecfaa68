"""``python -m matcher``: the command line (what the service uses to start the audit)."""

from matcher.cli import main

main()
