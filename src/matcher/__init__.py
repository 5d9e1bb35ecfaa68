"""matcher: job matching and skills recommendations on ESCO, in Vietnamese and English.

Importing the package imports nothing heavy: ``matcher.errors``, ``matcher.schemas`` and
``matcher.settings`` load without torch or FAISS. The use cases are in :mod:`matcher.services`.
"""

__version__ = "0.1.0"
