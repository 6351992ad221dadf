"""The command line: serve | migrate | create-manager."""

import argparse
import asyncio
import getpass
import logging
import shlex
import shutil
import sys
from pathlib import Path

from agentchat.config import Settings


def _serve(settings: Settings, host: str, port: int) -> None:
    import uvicorn

    from agentchat.app import create_app, tune_garbage_collector
    from agentchat.migrate import migrate_sync

    migrate_sync(settings)
    if asyncio.run(_count_managers(settings)) == 0:
        print("No Manager exists yet. Create one with:\n"
              f"  {command_here()} create-manager --name 'Your Name' --email you@example.com --password '...'",
              file=sys.stderr)
    print(f"AgentChat on http://{host}:{port}  (API docs: http://{host}:{port}/docs)", file=sys.stderr)
    app = create_app(settings)
    tune_garbage_collector()
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(),
                ws_per_message_deflate=False, proxy_headers=True,
                # uvicorn formats each access line before the logger drops it: off unless it would be shown.
                access_log=logging.getLevelName(settings.log_level.upper()) in (logging.DEBUG, logging.INFO))


def command_here() -> str:
    """How to run this command line from the caller's shell, which need not have the venv activated (`python` may
    not even be the venv's): `agentchat` when that is this one on PATH, else the script beside this Python
    (.venv/bin/agentchat, relative to the working directory when inside it), else this Python with -m."""
    script = Path(sys.executable).parent / "agentchat"
    if not script.is_file():
        return f"{shlex.quote(sys.executable)} -m agentchat"
    on_path = shutil.which("agentchat")
    if on_path and Path(on_path).resolve() == script.resolve():
        return "agentchat"
    try:
        return shlex.quote(str(script.absolute().relative_to(Path.cwd())))
    except ValueError:
        return shlex.quote(str(script))


async def _count_managers(settings: Settings) -> int:
    from agentchat.agents import service as agents
    from agentchat.db import create_engine, create_sessionmaker

    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as db:
            return await agents.count_managers(db)
    finally:
        await engine.dispose()


async def _create_manager(settings: Settings, name: str, email: str, password: str) -> None:
    from agentchat.agents import service as agents
    from agentchat.db import create_engine, create_sessionmaker
    from agentchat.security import password_hasher

    engine = create_engine(settings)
    try:
        async with create_sessionmaker(engine)() as db:
            agent = await agents.create_or_reset_manager(db, password_hasher(settings), name=name, email=email,
                                                          password=password)
            await db.commit()
            print(f"Manager {agent.name} <{agent.email_address}> (AgentID {agent.id}) is ready to log on.")
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="agentchat", description="AgentChat service")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="migrate the database, then serve the API and /docs")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    commands.add_parser("migrate", help="run the database migrations to the latest version")
    manager = commands.add_parser("create-manager", help="create a Manager, or reset one's password")
    manager.add_argument("--name", required=True)
    manager.add_argument("--email", required=True)
    manager.add_argument("--password", help="omit to be asked for it")
    args = parser.parse_args(argv)

    settings = Settings()
    # AGENTCHAT_LOG_LEVEL=DEBUG shows every library's debug lines too (redacted as all, logredact.py).
    debug = settings.log_level.upper() == "DEBUG"
    logging.basicConfig(level=logging.DEBUG if debug else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        _run(settings, args)
    except Exception as error:
        from agentchat.dbunreachable import describe

        # A database that is down, missing or refuses us: one line that says what to do, not a traceback.
        line = describe(error, settings.database_url)
        if line is None:
            raise
        sys.exit(line)


def _run(settings: Settings, args: argparse.Namespace) -> None:
    if args.command == "serve":
        _serve(settings, args.host, args.port)
    elif args.command == "migrate":
        from agentchat.migrate import migrate_sync

        migrate_sync(settings)
        print("Database is at the latest version.")
    else:
        _create_manager_command(settings, args)


def _create_manager_command(settings: Settings, args: argparse.Namespace) -> None:
    from agentchat.contract import normalise_email
    from agentchat.migrate import migrate_sync

    try:
        email = normalise_email(args.email)
    except ValueError:
        sys.exit(f"error: {args.email!r} is not a valid e-mail address")
    password = args.password or getpass.getpass("Password: ")
    if not 8 <= len(password) <= 128:
        sys.exit("error: the password must be 8 to 128 characters long")
    if not 1 <= len(args.name.strip()) <= 100:
        sys.exit("error: the name must be 1 to 100 characters long")
    migrate_sync(settings)
    asyncio.run(_create_manager(settings, args.name.strip(), email, password))


if __name__ == "__main__":
    main()
