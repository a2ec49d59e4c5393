"""The demonstration: ``seed`` a node with synthetic history, ``demo`` to seed and serve it live.

The only place outside ``sitcen.demo`` that imports the demo package."""

from __future__ import annotations

import threading
from pathlib import Path

import click

from sitcen.cli import main
from sitcen.cli.common import _Progress, _settings, _Stages
from sitcen.cli.serving import _serve
from sitcen.demo.patrols import start_demo_patrols
from sitcen.demo.seeding import LiveFeed
from sitcen.node import Node


@main.command()
@click.option("--years", default=3.0, show_default=True, type=click.FloatRange(0.01, 20))
@click.option("--seed", default=1, show_default=True, type=int)
@click.option("--scale", default=1.0, show_default=True, type=click.FloatRange(0.001, 100),
              help="multiplies the scenario's event rates")
@click.option("--truth", type=click.Path(dir_okay=False, path_type=Path),
              help="write the planted anomalies and trend shifts (ground truth) here")
def seed(years: float, seed: int, scale: float, truth: Path | None) -> None:
    """Write a synthetic scenario (events up to now) into the node's database."""
    from sitcen.demo.seeding import seed_scenario
    from sitcen.node import Node

    node = Node.open(_settings())
    bar = _Progress("seeding events")
    try:
        count = seed_scenario(node, years=years, seed=seed, scale=scale, truth=truth,
                              progress=bar)
    finally:
        bar.close()
        node.engine.dispose()
    click.echo(f"{count} events written")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=click.IntRange(1, 65535))
@click.option("--data-dir", default=Path(".demo"), show_default=True,
              type=click.Path(file_okay=False, path_type=Path))
@click.option("--years", default=3.0, show_default=True, type=click.FloatRange(0.01, 20))
@click.option("--seed", "seed_value", default=1, show_default=True, type=int)
@click.option("--live/--no-live", default=True, show_default=True,
              help="keep reporting new synthetic events while serving")
@click.option("--live-every", default=4.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="seconds between two live events")
@click.option("--task-every", default=180.0, show_default=True,
              type=click.FloatRange(0.5, 3600),
              help="seconds between two tasks the duty officer gives the patrols (with --live)")
def demo(host: str, port: int, data_dir: Path, years: float, seed_value: int, live: bool,
         live_every: float, task_every: float) -> None:
    """Seed a fresh demo node (SQLite) with years of activity and serve it."""
    # Only this command and `seed` import the demo package.
    from sitcen.demo.seeding import DEMO_USERS, DemoStory, add_demo_users, seed_scenario
    from sitcen.node import Node

    db = data_dir / "sitcen.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    settings = _settings(environment="demo", data_dir=data_dir, node_id="demo-national-centre",
                         node_name="Demo national coordination centre", node_country="TJ")
    node = Node.open(settings)
    if node.identity is None:  # the demo signs the daily report it issues
        from sitcen.exchange.identity import init_identity

        node.identity = init_identity(settings.identity_dir, settings.node_id)
    add_demo_users(node)
    truth = data_dir / "scenario-truth.json"
    bar = _Progress("seeding events")
    try:
        count = seed_scenario(node, years=years, seed=seed_value, truth=truth, progress=bar)
    finally:
        bar.close()
    stages = _Stages("")
    stop = threading.Event()
    story = DemoStory(node, raise_after_s=20.0 if live else 0.0, progress=stages,
                      say=click.echo, stop=stop, task_every_s=task_every if live else 0.0)
    try:
        story.prepare()
    finally:
        stages.close()
    url = f"http://{host}:{port}/"
    click.echo("")
    click.echo(f"sitcen demo: {count} events over {years:g} years; ground truth in {truth}")
    click.echo(f"serving at {url}  (API {url}api/v1, OpenAPI {url}openapi.json)")
    click.echo("demo users (username / password / role):")
    for username, password, role, _ in DEMO_USERS:
        click.echo(f"  {username:9} {password:17} {role}")
    for job in story.jobs():  # alerts, a level change on the live stream, patrols tasked
        job.start()
    try:
        def started(node: Node) -> None:
            if live:  # reports keep arriving and the patrols keep moving
                LiveFeed(node, stop, live_every).start()
                start_demo_patrols(node, stop)

        _serve(settings, host, port, started=started)
    finally:
        stop.set()


# --- spreadsheets: historic events and indicators in, event queries out ---------------------
