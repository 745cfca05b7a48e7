"""Version profiles: the FortiOS behaviours that changed between releases (reference §5.2).

===========================  =============  =========================  ================
behaviour                    6.4            7.4                        7.6
===========================  =============  =========================  ================
``access_token=`` in URL     accepted       refused (401) unless       same as 7.4
                                            ``rest-api-key-url-query``
``/logincheck`` CSRF cookie  ``ccsrftoken``  ``ccsrftoken_<port>_<h>``  none (no usable
                                                                       session cookie)
config backup verb           GET            GET and POST               POST (GET → 405)
``size``/``matched_count``   no             yes                        yes
===========================  =============  =========================  ================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["PROFILES", "Profile", "ProfileName"]

ProfileName = Literal["6.4", "7.4", "7.6"]


@dataclass(frozen=True)
class Profile:
    name: ProfileName
    query_token_default: bool  # access_token= accepted without rest-api-key-url-query enable
    logincheck_csrf: Literal["plain", "port-hash", "none"]
    backup_verbs: frozenset[str]
    table_counts: bool  # size / matched_count / next_idx on table GETs


PROFILES: dict[str, Profile] = {
    "6.4": Profile("6.4", True, "plain", frozenset({"GET"}), False),
    "7.4": Profile("7.4", False, "port-hash", frozenset({"GET", "POST"}), True),
    "7.6": Profile("7.6", False, "none", frozenset({"POST"}), True),
}
