"""Nodes for the federation tests: each with its own key pair, served on loopback, linked.

:class:`LinkedNodes` starts the nodes a test names, links them as it says (both ways
with :meth:`LinkedNodes.link_both`) and stops them all afterwards; :data:`CHAIN` and
:data:`CHAIN_LINKS` are the chain from a post up to its national centre and across to a
partner's, which ``benchmarks/federation.py`` runs too; :data:`BATKEN_ISFARA` is a peer
agreement of two posts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from conftest import make_settings
from sitcen.exchange.identity import NodeIdentity
from sitcen.exchange.links import Relation, add_peer
from sitcen.exchange.sender import LinkSender
from sitcen.exchange.sharing import section_infos
from sitcen.node import Node
from sitcen.testing import ServedNode, serve_in_thread

#: A border post, its regional centre, the national centre and a partner's national centre.
CHAIN = ("tj-panj-post", "tj-kulob-rc", "tj-ncc", "kg-ncc")
#: The links of :data:`CHAIN`: (node, linked node, relation as the node sees it).
CHAIN_LINKS = (("tj-panj-post", "tj-kulob-rc", Relation.parent),
               ("tj-kulob-rc", "tj-panj-post", Relation.child),
               ("tj-kulob-rc", "tj-ncc", Relation.parent),
               ("tj-ncc", "tj-kulob-rc", Relation.child),
               ("tj-ncc", "kg-ncc", Relation.peer),
               ("kg-ncc", "tj-ncc", Relation.peer))

#: A peer agreement between two posts on the Kyrgyz-Tajik border: crossings on the border's
#: sections, persons as counts.
BATKEN_ISFARA = """\
id: batken-to-isfara
version: 1
from_node: kg-blo-batken
to_node: tj-blo-isfara
direction: peer
kinds: [event]
events:
  categories: [unauthorised_crossing]
  sections: [KG-TJ-*]
fields: [location, section_id, status, persons, details]
location_precision: section
personal_data: counts_only
handling_ceiling: AMBER
delay: none
onward_sharing: false
"""

#: How a linked node sees the node it is linked to, by how the node sees it.
BACK = {Relation.parent: Relation.child, Relation.child: Relation.parent,
        Relation.peer: Relation.peer}


@dataclass
class LinkedNode:
    """A node with its identity, served from a thread of this process."""

    node: Node
    identity: NodeIdentity
    served: ServedNode

    @property
    def url(self) -> str:
        """The node's base URL."""
        return self.served.url

    def new_sender(self) -> LinkSender:
        """A sender of this node's batches to every node it is linked to."""
        return LinkSender(self.node.engine, self.identity,
                          sections=section_infos(self.node.sections.sections))

    def stop(self) -> None:
        """Stop serving and close the node's engine."""
        self.served.stop()
        self.node.engine.dispose()


def node_cli(node: Node, data_dir: Path, *args: str) -> tuple[int, str]:
    """Run ``sitcen <args>`` in this process for ``node`` (its database, id and country, and
    ``data_dir``): the exit code and what it printed."""
    from click.testing import CliRunner

    from sitcen.cli import main

    env = {"SITCEN_ENVIRONMENT": "test", "SITCEN_DATA_DIR": str(data_dir),
           "SITCEN_DATABASE_URL": node.engine.url.render_as_string(False),
           "SITCEN_NODE_ID": node.settings.node_id,
           "SITCEN_NODE_COUNTRY": node.settings.node_country}
    result = CliRunner().invoke(main, list(args), env=env)
    return result.exit_code, result.output


def push_once(sender: LinkSender) -> None:
    """Send what the sender's node has to every node it is linked to, once; each accepts."""
    with httpx.Client(timeout=30) as client:
        for peer, result in sender.run_once(client).items():
            assert result.error is None, f"{sender.identity.node_id} -> {peer}: {result.error}"


class LinkedNodes(dict[str, LinkedNode]):
    """The nodes a test started, by id; each stopped when the ``with`` block ends."""

    def __init__(self, data_root: Path) -> None:
        super().__init__()
        self.data_root = data_root

    def start(self, name: str, database_url: str, **settings: Any) -> LinkedNode:
        """Open node ``name`` (country: its first two letters, unless ``settings`` say) on
        ``database_url`` with a new key pair, and serve it; ``settings`` override the test
        settings."""
        values = make_settings(database_url, self.data_root / name,
                               **{"node_id": name, "node_country": name[:2].upper(), **settings})
        identity = NodeIdentity.generate(name)
        identity.save(values.identity_dir)
        node = Node.open(values)
        self[name] = LinkedNode(node, identity, serve_in_thread(node))
        return self[name]

    def link(self, name: str, other: str, relation: Relation, *, other_name: str = "") -> None:
        """Link ``name`` to ``other`` (its URL and public key), ``relation`` as ``name`` sees it."""
        add_peer(self[name].node.engine, other, url=self[other].url, relation=relation,
                 public_key=self[other].identity.public_key_text, name=other_name)

    def link_both(self, name: str, other: str, relation: Relation) -> None:
        """:meth:`link` ``name`` to ``other`` and ``other`` back to ``name`` (``relation`` as
        ``name`` sees it: a parent's child, a peer's peer)."""
        self.link(name, other, relation)
        self.link(other, name, BACK[relation])

    def start_post_and_centre(self, another_database: Callable[[str], str]
                              ) -> tuple[LinkedNode, LinkedNode]:
        """The first two of :data:`CHAIN`, a border post and its regional centre (each on
        ``another_database(name)``), linked: (post, centre)."""
        post, centre = (self.start(name, another_database(name)) for name in CHAIN[:2])
        self.link_both(CHAIN[0], CHAIN[1], Relation.parent)
        return post, centre

    def __enter__(self) -> LinkedNodes:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        for linked in self.values():
            linked.stop()
