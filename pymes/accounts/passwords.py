"""What a new password may not be (issue 20, finding 15; OWASP ASVS 2.1.7, NIST 800-63B
5.1.1.2): besides the 12-character minimum, not one of the 10,000 most common
passwords, not made of the person's e-mail or business name, and not trivially
guessable (``aaaaaaaaaaaa``, ``123456789012``, a keyboard row).

The common-password list is the one bundled in zxcvbn (Dropbox's estimator, its
maintained Python port, pinned in pyproject.toml): 30,000 passwords from leaked sets
ranked by frequency, of which the first 10,000 are refused. Nothing is fetched at run
time. zxcvbn also estimates the guesses a password needs, with the e-mail and business
name as known words; fewer than a million (its score 0 or 1) is refused. No rules about
symbols or capitals: a short sentence is the advice."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from flask_babel import lazy_gettext as _l

COMMON_COUNT = 10_000
MIN_SCORE = 2  # zxcvbn: 0-1 means under 10^6 guesses
ZXCVBN_LENGTH = 100  # zxcvbn's time grows with the length; the first 100 characters decide


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"][:COMMON_COUNT])


def _plain(text: str) -> str:
    """Lower case without accents: "Ferretería" and "ferreteria" are the same word here."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def known_words(*texts: str | None) -> list[str]:
    """The words of an e-mail address or a business name a password must not be made of:
    the whole (without spaces or dots), the e-mail's name and domain labels, each word of
    three letters or more."""
    words: set[str] = set()
    for text in texts:
        plain = _plain(text or "").strip()
        if not plain:
            continue
        words.add(re.sub(r"[\W_]+", "", plain))
        words.update(w for w in re.split(r"[\W_]+", plain) if len(w) >= 3)
    words.discard("")
    return sorted(words, key=len, reverse=True)


def problem(password: str, words: list[str] = ()) -> str | None:
    """Why ``password`` cannot be used, or None."""
    plain = _plain(password).strip()
    compact = re.sub(r"[\W_]+", "", plain)
    common = common_passwords()
    if plain in common or compact in common:
        return str(_l("This password is one of the most used ones, the first that attackers try. "
                      "A short sentence of your own works well."))
    if words:
        rest = compact
        for word in words:
            rest = rest.replace(word, "")
        if len(re.sub(r"\d", "", rest)) < 4:
            return str(_l("Your password cannot be made of your e-mail or your business's name."))
    from zxcvbn import zxcvbn

    if zxcvbn(password[:ZXCVBN_LENGTH], user_inputs=list(words))["score"] < MIN_SCORE:
        return str(_l("This password is too easy to guess (a repeated letter, a run of digits, a keyboard "
                      "row). A short sentence of your own works well."))
    return None
