"""Citizen ID numbers (公民身份号码) per GB 11643-1999.

18 characters: 6-digit address code, 8-digit birth date, 3-digit sequence (odd for men, even for
women), and an ISO 7064 MOD 11-2 check character (``0``–``9`` or ``X``).
"""

from __future__ import annotations

import random
from datetime import date

WEIGHTS: tuple[int, ...] = tuple(pow(2, 17 - i, 11) for i in range(17))
_CHECK = "10X98765432"


def check_char(first17: str) -> str:
    """The MOD 11-2 check character of the first 17 digits."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError(f"need 17 digits, got {first17!r}")
    return _CHECK[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def make(region: str, birth: date, seq: int, sex: str) -> str:
    """Build an ID number; ``seq`` (0–499) picks the sequence with the sex's parity."""
    n = 2 * seq + (1 if sex == "male" else 0)
    if not 0 <= n <= 999:
        raise ValueError(f"sequence out of range: {seq}")
    body = f"{region}{birth:%Y%m%d}{n:03d}"
    return body + check_char(body)


def is_valid(number: str) -> bool:
    """True if ``number`` has the right shape, a real birth date and the right check character."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    return check_char(number[:17]) == number[17]


def birth_date(number: str) -> date:
    return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def sex_of(number: str) -> str:
    return "male" if int(number[16]) % 2 == 1 else "female"


class Allocator:
    """Hands out ID numbers unique within one generation run."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def new(self, rng: random.Random, region: str, birth: date, sex: str) -> str:
        for _ in range(1000):
            number = make(region, birth, int(rng.random() * 500), sex)
            if number not in self._used:
                self._used.add(number)
                return number
        raise RuntimeError(f"no free ID sequence for {region} {birth} {sex}")
