"""What a person says they want, read from their own words (Vietnamese or English).

Only explicit statements count ("Muốn chuyển sang làm việc ở doanh nghiệp", "I want to leave
teaching"): a profile that merely describes a past job says nothing about wanting to leave it.
Matched without diacritics, so text typed without them is read the same.
"""

from __future__ import annotations

import re

from matcher.text import plain

_CHANGE = re.compile(
    r"\b(?:"
    # Vietnamese: "muốn chuyển sang/ngành/nghề/hướng", "muốn đổi nghề", "chuyển đổi nghề
    # nghiệp", "không muốn tiếp tục (làm|dạy)", "muốn thử sức ở lĩnh vực (mới|khác)"
    r"(?:muon|mong muon|dinh|du dinh|can|tim co hoi|mong|hy vong)\s+(?:duoc\s+)?"
    r"(?:chuyen|doi)\s+(?:sang|qua|nganh|nghe|viec|linh vuc|huong|cong viec)"
    r"|chuyen doi nghe(?: nghiep)?|chuyen nganh sang|chuyen nghe sang"
    r"|khong muon (?:tiep tuc|quay lai|lam|day)"
    r"|thu suc (?:o|trong|voi) (?:linh vuc|nganh|nghe) (?:moi|khac)"
    r"|bo nghe|roi nganh|roi khoi nganh"
    # English
    r"|(?:want|wants|wanting|would like|hope|hoping|looking|plan|planning|ready|keen)"
    r"\s+to\s+(?:switch|change|transition|pivot|retrain|get out of"
    r"|(?:move|leave)\s+(?:into|out of|away from|a new|teaching|nursing|health ?care|government"
    r"|the public|public|the civil|civil|my (?:job|field|profession|career|sector)"
    r"|the (?:field|profession|sector|school|classroom)))"
    r"|career (?:change|switch|transition|changer)|change (?:of )?careers?"
    r"|(?:move|moving|switch|switching|transition|transitioning) (?:into|to) a new"
    r"|no longer want to"
    r")\b"
)


def wants_change(text: str) -> bool:
    """The text says its author wants to leave their field."""
    return bool(text) and _CHANGE.search(plain(text)) is not None
