"""Small rules of English the console's messages share, so each message need not get them right."""

from __future__ import annotations

# Letters whose spoken name starts with a vowel sound, for initialisms: "an SSO provider", "an IP".
_VOWEL_SOUND_LETTERS = frozenset("AEFHILMNORSX")
_VOWELS = frozenset("aeiou")


def with_article(noun: str) -> str:
    """`noun` after "a" or "an", by how it is said: an access IP, an SSO provider, a billing group."""
    word = noun.split(maxsplit=1)[0] if noun.strip() else ""
    if not word:
        return noun
    if len(word) > 1 and word.isupper():  # an initialism, said letter by letter
        article = "an" if word[0] in _VOWEL_SOUND_LETTERS else "a"
    elif word.lower().startswith(("uni", "use", "usu", "eu", "one")):  # said with a consonant sound
        article = "a"
    else:
        article = "an" if word[0].lower() in _VOWELS else "a"
    return f"{article} {noun}"


def plural(noun: str, count: int) -> str:
    """`count` and `noun`, made plural unless it is one: 1 access IP, 3 access IPs, 2 addresses."""
    if count == 1:
        return f"1 {noun}"
    if noun.endswith(("s", "x", "sh", "ch")):
        return f"{count} {noun}es"
    return f"{count} {noun}s"
