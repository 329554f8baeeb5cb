"""Domain values that carry their facts: a ``StrEnum`` whose members are written
``NAME = ("value", fact, ...)``, one fact per annotation of the enum, in the annotations' order
(``DisconnectReason``'s message and hint, ``ZoomErrorKind``'s description and whether it is
transient...). A member missing a fact does not construct, so none can be written without them."""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class FactEnum(StrEnum):
    def __new__(cls, value: str, *facts: Any) -> FactEnum:
        names = [name for name in cls.__annotations__ if not name.startswith("_")]
        if len(facts) != len(names):
            raise TypeError(f"{cls.__name__} {value!r}: give {', '.join(names)}")
        member = str.__new__(cls, value)
        member._value_ = value
        for name, fact in zip(names, facts, strict=True):
            setattr(member, name, fact)
        return member
