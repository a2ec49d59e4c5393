"""Which agreement covers a liaison user or a partner node: one place for TAXII, CAP and TAK.

A user named in ``SITCEN_PARTNER_USERS`` speaks for that partner node
(docs/decisions.md, "A liaison user speaks for a partner node through a
setting"): what the user reads over TAXII, CAP or TAK is what the agreement
governing this node's link to the partner grants it, passed through
:func:`sitcen.exchange.sharing.share`. A partner this node has no link to has
no agreement, so it is shown nothing. A user the setting does not name reads
as a user of this node.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from sitcen.exchange.agreements import Agreement
from sitcen.exchange.links import governing, list_peers
from sitcen.store.users import StoredUser
from sitcen.users import Role


@dataclass(frozen=True)
class Audience:
    """Who reads: one of this node's users, or a partner through its agreement."""

    #: The partner node the user speaks for; None for this node's own users.
    partner: str | None = None
    #: What decides what the partner sees; None for own users, and for a partner
    #: this node has no link to (which then sees nothing).
    agreement: Agreement | None = None

    @property
    def unlinked(self) -> bool:
        """A partner's user whose partner this node has no link to: nothing is shared."""
        return self.partner is not None and self.agreement is None


def partner_of(username: str, partner_users: Mapping[str, str]) -> str | None:
    """The partner node a user speaks for (``SITCEN_PARTNER_USERS``), or None."""
    return partner_users.get(username)


def agreement_with(engine: sa.Engine, own_node_id: str, partner: str) -> Agreement | None:
    """The agreement governing this node's link to ``partner``; None without a link."""
    peer = next((p for p in list_peers(engine) if p.node_id == partner), None)
    return None if peer is None else governing(engine, own_node_id, peer)


def audience_of(engine: sa.Engine, own_node_id: str, username: str,
                partner_users: Mapping[str, str]) -> Audience:
    """Who a user reads as: this node's own user, or the partner it speaks for."""
    partner = partner_of(username, partner_users)
    if partner is None:
        return Audience()
    return Audience(partner, agreement_with(engine, own_node_id, partner))


def may_read(user: StoredUser, agreement: Agreement, partner_users: Mapping[str, str]) -> bool:
    """Whether a user may read what ``agreement`` grants its partner (a TAXII collection).

    A ``liaison`` user who speaks for the agreement's partner does; an
    ``admin`` does for every agreement (to check what partners get); nobody
    else does.
    """
    if user.role == Role.admin:
        return True
    return (user.role == Role.liaison
            and partner_of(user.username, partner_users) == agreement.to_node)
