"""Azure DevOps enumerations as they travel: numbers from azure-devops-node-api, camelCase names from the service.

Clients send either form (azure-devops-node-api posts the numbers of its TypeScript enums as they are); the
service always answers with the camelCase name, which the client library maps back to its numbers.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Self


class WireEnum(IntEnum):
    @property
    def wire(self) -> str:
        """The camelCase name Azure DevOps writes into JSON."""
        words = self.name.lower().split("_")
        return words[0] + "".join(word.capitalize() for word in words[1:])

    @classmethod
    def parse(cls, value: object) -> Self:
        """The member named or numbered by ``value``; ``ValueError`` when it is neither."""
        if isinstance(value, int) and not isinstance(value, bool):
            return cls(value)
        if isinstance(value, str):
            if value.isdigit():
                return cls(int(value))
            for member in cls:
                if member.wire.lower() == value.lower():
                    return member
        raise ValueError(f"{value!r} is not a {cls.__name__}")


class PullRequestStatus(WireEnum):
    NOT_SET = 0
    ACTIVE = 1
    ABANDONED = 2
    COMPLETED = 3
    ALL = 4


class GitStatusState(WireEnum):
    NOT_SET = 0
    PENDING = 1
    SUCCEEDED = 2
    FAILED = 3
    ERROR = 4
    NOT_APPLICABLE = 5
    PARTIALLY_SUCCEEDED = 6


class MergeStrategy(WireEnum):
    NO_FAST_FORWARD = 1
    SQUASH = 2
    REBASE = 3
    REBASE_MERGE = 4


class CommentThreadStatus(WireEnum):
    UNKNOWN = 0
    ACTIVE = 1
    FIXED = 2
    WONT_FIX = 3
    CLOSED = 4
    BY_DESIGN = 5
    PENDING = 6


class CommentType(WireEnum):
    UNKNOWN = 0
    TEXT = 1
    CODE_CHANGE = 2
    SYSTEM = 3


class GitVersionType(WireEnum):
    BRANCH = 0
    TAG = 1
    COMMIT = 2


class PolicyEvaluationStatus(WireEnum):
    QUEUED = 0
    RUNNING = 1
    APPROVED = 2
    REJECTED = 3
    NOT_APPLICABLE = 4
    BROKEN = 5
