"""The HTTP service: thin routes over the ``matcher`` library."""
