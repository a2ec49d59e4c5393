"""Administering a node: users, border sections, the node's identity, agreements and peers."""

from __future__ import annotations

import json
from pathlib import Path

import click

from sitcen.cli import main
from sitcen.cli.common import _audit, _database, _refusing, _settings
from sitcen.exchange.links import Relation


@main.group()
def user() -> None:
    """Manage the node's users."""


@user.command("add")
@click.argument("username")
@click.option("--role", required=True,
              type=click.Choice(["operator", "duty_officer", "analyst", "liaison", "admin"]))
@click.option("--full-name", default="", help="the person's name as shown in the console")
@click.password_option(help="password (asked for when not given)")
def user_add(username: str, role: str, full_name: str, password: str) -> None:
    """Create a user with a role."""
    from sitcen.store.users import UserError, add_user
    from sitcen.users import Role

    with _refusing(UserError), _database() as engine:
        add_user(engine, username, password, Role(role), full_name)
        _audit(engine, "user_created", username, {"role": role, "full_name": full_name})
    click.echo(f"user {username} added with role {role}")


@user.command("list")
def user_list() -> None:
    """List the node's users."""
    from sitcen.store.users import list_users

    with _database() as engine:
        users = list_users(engine)
    for u in users:
        flag = " (disabled)" if u.disabled else ""
        click.echo(f"{u.username}\t{u.role.value}\t{u.full_name}{flag}")


@main.group()
def sections() -> None:
    """Border sections: list, import custom ones, restore the defaults."""


@sections.command("list")
def sections_list() -> None:
    """List the node's border sections."""
    from sitcen.store.sections import ensure_sections, load_sections

    with _database() as engine:
        ensure_sections(engine)
        found = load_sections(engine)
    for s in found:
        click.echo(f"{s.id}\t{s.length_km:8.1f} km\t{s.name}")


@sections.command("import")
@click.argument("geojson_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def sections_import(geojson_file: Path) -> None:
    """Replace the border sections with those of a GeoJSON FeatureCollection."""
    from sitcen.geo import GeographyError
    from sitcen.store.sections import replace_sections

    try:
        data = json.loads(geojson_file.read_text(encoding="utf-8"))
        with _database() as engine:
            imported = replace_sections(engine, data)
    except (GeographyError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{geojson_file}: {exc}") from exc
    click.echo(f"{len(imported)} sections imported; they replace the previous ones")


@sections.command("reset")
def sections_reset() -> None:
    """Go back to the shipped default sections."""
    from sitcen.store.sections import restore_default_sections

    with _database() as engine:
        restore_default_sections(engine)
    click.echo("default sections restored")


@main.command()
@click.option("--force", is_flag=True, help="replace an existing key pair (peers must re-trust)")
def init(force: bool) -> None:
    """Create this node's Ed25519 key pair and its database."""
    from sitcen.exchange.identity import IdentityExistsError, init_identity

    settings = _settings()
    try:
        identity = init_identity(settings.identity_dir, settings.node_id, overwrite=force)
    except IdentityExistsError as exc:
        raise click.ClickException(f"{exc} (use --force to replace it)") from exc
    with _database():
        pass
    click.echo(f"node {identity.node_id}: key pair in {settings.identity_dir}")
    click.echo(f"public key  {identity.public_key_text}")
    click.echo(f"fingerprint {identity.fingerprint}")


@main.group()
def node() -> None:
    """This node's identity."""


@node.command("show")
def node_show() -> None:
    """Print this node's id, public key and fingerprint (to give to partners)."""
    from sitcen.exchange.identity import IdentityError, NodeIdentity

    settings = _settings()
    try:
        identity = NodeIdentity.load(settings.identity_dir)
    except IdentityError as exc:
        raise click.ClickException(f"{exc}; run `sitcen init` first") from exc
    click.echo(f"node        {identity.node_id} ({settings.node_name}, {settings.node_country})")
    click.echo(f"public key  {identity.public_key_text}")
    click.echo(f"fingerprint {identity.fingerprint}")


@main.group()
def agreement() -> None:
    """Sharing agreements this node grants to the nodes it is linked to."""


@agreement.command("check")
@click.argument("document", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def agreement_check(document: Path) -> None:
    """Validate an agreement document (YAML or JSON) without storing it."""
    from sitcen.exchange.agreements import AgreementError, load_agreement

    with _refusing(AgreementError):
        parsed = load_agreement(document.read_text(encoding="utf-8"), source=str(document))
    click.echo(f"{parsed.id} v{parsed.version}: {parsed.from_node} -> {parsed.to_node} is valid")


@agreement.command("add")
@click.argument("document", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def agreement_add(document: Path) -> None:
    """Store an agreement and make it govern the link to its receiver."""
    from sitcen.exchange.agreements import AgreementError
    from sitcen.exchange.links import PeerError, add_agreement

    settings = _settings()
    with _refusing(AgreementError, PeerError), _database() as engine:
        stored = add_agreement(engine, document.read_text(encoding="utf-8"),
                               own_node_id=settings.node_id, source=str(document))
        _audit(engine, "agreement_added", stored.id,
               {"version": stored.version, "file": str(document)})
    click.echo(f"agreement {stored.id} v{stored.version} now governs what goes to "
               f"{stored.agreement.to_node}")


@agreement.command("list")
def agreement_list() -> None:
    """List the stored agreements."""
    from sitcen.exchange.links import list_agreements

    with _database() as engine:
        found = list_agreements(engine)
    for a in found:
        click.echo(f"{a.id}\tv{a.version}\t{a.agreement.from_node} -> {a.agreement.to_node}"
                   f"\t{a.agreement.direction}")


@main.group()
def peer() -> None:
    """Links to other nodes: a parent, children and peers."""


@peer.command("add")
@click.argument("node_id")
@click.option("--url", required=True, help="base URL of the other node, e.g. https://kg-nc:8080")
@click.option("--public-key", required=True,
              help="its public key (ed25519:...), exchanged out of band")
@click.option("--relation", required=True, type=click.Choice([r.value for r in Relation]))
@click.option("--name", default="", help="human name of the other node")
def peer_add(node_id: str, url: str, public_key: str, relation: str, name: str) -> None:
    """Link another node by id, URL and public key."""
    from sitcen.exchange.links import PeerError, add_peer

    settings = _settings()
    with _refusing(PeerError), _database() as engine:
        add_peer(engine, node_id, url=url, public_key=public_key,
                 relation=Relation(relation), name=name, own_node_id=settings.node_id)
        _audit(engine, "peer_added", node_id, {"url": url, "relation": relation})
    click.echo(f"linked {node_id} as {relation} at {url}")


@peer.command("list")
def peer_list() -> None:
    """List the linked nodes."""
    from sitcen.exchange.links import list_peers

    with _database() as engine:
        found = list_peers(engine)
    for p in found:
        click.echo(f"{p.node_id}\t{p.relation.value}\t{p.url}\t{p.public_key}")


@peer.command("remove")
@click.argument("node_id")
def peer_remove(node_id: str) -> None:
    """Unlink a node."""
    from sitcen.exchange.links import remove_peer

    with _database() as engine:
        if not remove_peer(engine, node_id):
            raise click.ClickException(f"no linked node {node_id}")
        _audit(engine, "peer_removed", node_id)
    click.echo(f"unlinked {node_id}")
