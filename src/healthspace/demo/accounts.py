"""The demo's accounts: the demo person, a clinician and an admin, with passwords printed by
``serve --demo``. The record is synthetic, so fixed passwords hide nothing; a real install
creates its accounts with ``/setup`` or ``healthspace accounts create``."""

from __future__ import annotations

from dataclasses import dataclass

from healthspace.bootstrap import Healthspace
from healthspace.demo.loader import DEMO_ACTOR


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    role: str
    display_name: str


DEMO_PERSON = DemoAccount("demo", "demo-health", "person", "Camille Demo-Durand")
DEMO_CLINICIAN = DemoAccount("dr.martin", "demo-clinician", "clinician", "Dr Claire Martin")
DEMO_ADMIN = DemoAccount("admin", "demo-admin", "admin", "Admin")
DEMO_ACCOUNTS = (DEMO_PERSON, DEMO_CLINICIAN, DEMO_ADMIN)


def ensure_demo_accounts(hs: Healthspace, person: str) -> tuple[DemoAccount, ...]:
    """Create the demo accounts that do not exist yet; the demo person owns ``person``."""
    for item in DEMO_ACCOUNTS:
        if hs.accounts.find(item.username) is None:
            hs.accounts.create(
                DEMO_ACTOR,
                item.username,
                item.password,
                item.role,
                item.display_name,
                person if item.role == "person" else None,
            )
    return DEMO_ACCOUNTS
