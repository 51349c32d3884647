"""Who may do what with whose record: the one access rule, applied to every request.

* the owner (a person account whose record it is) may read, write and manage it (share,
  export, erase, read its audit log);
* a carer (delegate grant) or a clinician (clinician grant) may read and write (enter data,
  draft notes) but not manage;
* an admin manages accounts and never reads a record;
* anyone else gets the same refusal whether or not the record exists, so a refusal tells
  nothing about who has a record here. Every refusal is audited.
"""

from __future__ import annotations

from typing import Literal

from healthspace.accounts.grants import Grants
from healthspace.accounts.store import Account
from healthspace.errors import AccessDeniedError
from healthspace.vault.store import Vault

Action = Literal["read", "write", "manage"]


class AccessPolicy:
    def __init__(self, vault: Vault, grants: Grants) -> None:
        self.vault = vault
        self.grants = grants

    def allows(self, account: Account, person: str, action: Action) -> bool:
        if account.role == "admin":
            return False
        if account.role == "person" and account.person == person:
            return True
        if action == "manage":
            return False
        return self.grants.has_access(account.username, person)

    def require(self, account: Account, person: str, action: Action, where: str) -> None:
        """Pass, or audit the attempt and refuse."""
        if self.allows(account, person, action):
            return
        self.vault.record_event(account.actor, "denied", person, None, f"{action} {where}")
        raise AccessDeniedError(
            "You do not have access to this record. Its owner can share it with you from "
            "their Sharing page."
        )

    def readable_persons(self, account: Account) -> list[str]:
        """The records this account may open: its own first, then those shared with it."""
        if account.role == "admin":
            return []
        own = [account.person] if account.role == "person" and account.person else []
        shared = [g.person for g in self.grants.active_for(account.username)]
        return own + [p for p in dict.fromkeys(shared) if p not in own]
