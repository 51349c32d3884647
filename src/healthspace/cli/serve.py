"""``healthspace serve``: the web app and API, optionally on a demo record."""

from __future__ import annotations

import threading

import typer

from healthspace.cli.app import app
from healthspace.cli.output import console
from healthspace.config import Settings


@app.command()
def serve(
    demo: bool = typer.Option(False, "--demo", help="Serve a synthetic demo person (own folder)."),
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port"),
) -> None:
    """Start the web app and API (default http://127.0.0.1:8000)."""
    import uvicorn

    from healthspace.api.app import create_app
    from healthspace.bootstrap import build
    from healthspace.knowledge.search.engine import engine_for

    settings = Settings()
    if demo:
        from healthspace.demo.loader import load_demo

        # The demo lives in its own folder so it never mixes with a real record.
        settings = settings.model_copy(
            update={"home": settings.home / "demo", "database_url": None}
        )
        hs = build(settings)
        person = load_demo(hs)
        console.print(
            f"Demo record ready: person [bold]{person}[/] (synthetic, made by Healthspace)."
        )
        from healthspace.demo.accounts import ensure_demo_accounts

        for account in ensure_demo_accounts(hs, person):
            console.print(
                f"  log in as [bold]{account.username}[/] with password "
                f"[bold]{account.password}[/] ({account.role})"
            )
        # Build or load the search index now, not on the first question a visitor asks
        # (about 15 s the first time, then read from the data folder's cache).
        threading.Thread(target=engine_for, args=(hs.settings.home,), daemon=True).start()
    else:
        hs = build(settings)
        if hs.accounts.count() == 0:
            console.print(
                f"No account yet: open http://{host}:{port}/setup to create yours, or run "
                "`healthspace accounts create NAME`."
            )
    from healthspace.clinician.summary_refresher import SummaryRefresher

    hs.importer.add_listener(SummaryRefresher(hs).schedule)
    console.print(f"Healthspace is running at http://{host}:{port}/  (API docs: /docs)")
    uvicorn.run(create_app(hs), host=host, port=port, log_level="warning")
