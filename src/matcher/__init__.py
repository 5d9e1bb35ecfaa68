"""matcher: job matching and skills recommendations on ESCO, in Vietnamese and English."""

from matcher.errors import MatcherError
from matcher.settings import Settings, get_settings

__version__ = "0.1.0"
__all__ = ["MatcherError", "Settings", "__version__", "get_settings"]
