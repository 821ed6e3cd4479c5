"""The ``lablens`` command: ``server``, ``login``, ``user``, ``key``, ``runs``, ``demo``,
``import``, ``sync``, ``migrate``, ``agent``.

The parser is built here; ``cli_server.py`` (the local server's start, stop and status) and
``cli_runs.py`` (``runs ls``) and ``cli_agent.py`` (``agent``) hold the longer commands.
"""

from __future__ import annotations

import argparse
import os
import sys

from lablens import cli_agent
from lablens._version import __version__

DESCRIPTION = """\
lablens: a self-hosted experiment tracker made for Jupyter.

Commands for the server (server, login, user, key, migrate), for runs (runs ls,
sync, import), for run queues (agent) and the demo. Run 'lablens COMMAND --help'
for the options of each."""


def _server(args: argparse.Namespace) -> int:
    if args.action is not None:
        from lablens import cli_server

        action = {
            "start": cli_server.server_start,
            "stop": cli_server.server_stop,
            "status": cli_server.server_status,
        }
        return action[args.action]()
    from lablens.server.main import serve

    if args.data is None:
        from lablens._settings import home

        args.data = str(home() / "data")
    serve(
        args.host,
        args.port,
        args.data,
        log_level=args.log_level,
        blobs=args.blobs or os.environ.get("LABLENS_BLOBS") or None,
        store_url=args.store or os.environ.get("LABLENS_STORE") or None,
    )
    return 0


def _runs(args: argparse.Namespace) -> int:
    from lablens.cli_runs import parse_filter, runs_ls
    from lablens.errors import LablensError

    try:
        filters = parse_filter(args.filter)
        summary = [k.strip() for k in (args.summary or "").split(",") if k.strip()]
        text = runs_ls(
            _api(args),
            args.path,
            filters=filters,
            order=args.order,
            limit=args.limit,
            summary=summary,
        )
    except (LablensError, ValueError) as exc:
        print(f"lablens runs ls: {exc}", file=sys.stderr)
        return 2
    print(text)
    return 0


def _login(args: argparse.Namespace) -> int:
    from lablens import _settings
    from lablens.contract.routes import API, VIEWER
    from lablens.transport import Transport

    host = _settings.resolve_host(args.host)
    if args.username:
        import getpass

        password = args.password or getpass.getpass(f"Password for {args.username} at {host}: ")
        answer = Transport(host, None).post_json(
            f"{API}/login",
            {
                "username": args.username,
                "password": password,
                "name": f"lablens login ({_hostname()})",
            },
        )
        key = answer["api_key"]
    else:
        key = args.key or input(f"API key for {host}: ").strip()
    viewer = Transport(host, key).get_json(VIEWER)
    _settings.store_credentials(host, key, viewer["username"])
    print(f"Logged in to {host} as {viewer['username']}.")
    return 0


def _hostname() -> str:
    import socket

    return socket.gethostname()


def _api(args: argparse.Namespace):
    from lablens.api import Api

    return Api(host=args.host)


def _user(args: argparse.Namespace) -> int:
    api = _api(args)
    if args.action == "list":
        for user in api.users(args.search):
            flags = " (admin)" if user.is_admin else ""
            teams = f"  teams: {', '.join(user.teams)}" if user.teams else ""
            print(f"{user.username}\t{user.email or ''}{flags}{teams}")
        return 0
    password = args.password
    if args.ask_password:
        import getpass

        password = getpass.getpass(f"Password for {args.username}: ")
    user = api.create_user(
        args.email, args.admin, username=args.username, password=password, name=args.name
    )
    print(f"Created user {user.username}. Their first API key (shown only now):")
    print(user.api_key)
    return 0


def _key(args: argparse.Namespace) -> int:
    api = _api(args)
    user = api.user(args.user) if args.user else api.viewer
    if user is None:
        print(f"lablens: no user {args.user!r}", file=sys.stderr)
        return 1
    if args.action == "list":
        from lablens.contract.routes import VIEWER, user_route

        route = f"{VIEWER}/api_keys" if user.is_self else f"{user_route(user.username)}/api_keys"
        for item in api.client.get_json(route)["items"]:
            print(f"{item['id']}\t{item['created_at']}\t{item.get('name') or ''}")
    elif args.action == "create":
        print(user.generate_api_key(args.name))
    else:
        user.delete_api_key(args.id)
        print(f"Revoked key {args.id} of {user.username}.")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from lablens.demo import main as demo_main

    return demo_main(args)


def _import(args: argparse.Namespace) -> int:
    import importlib

    from lablens.api import Api
    from lablens.errors import LablensError

    module = importlib.import_module(f"lablens.importers.{args.source}")
    try:
        api = Api(host=args.host, api_key=args.api_key)
        report = module.import_(
            args.path, project=args.project, entity=args.entity, api=api, progress=not args.quiet
        )
    except LablensError as exc:
        print(f"lablens import: {exc}", file=sys.stderr)
        return 2
    print(
        f"Imported {len(report.runs)} {args.source} runs: {report.points:,} new points,"
        f" {report.files} new files."
    )
    if report.problems and not args.quiet:
        print(
            f"{len(report.problems)} source files could not be read in full (listed above).",
            file=sys.stderr,
        )
    elif report.problems:
        for problem in report.problems:
            print(f"skipped: {problem}", file=sys.stderr)
    return 1 if report.problems and not report.runs else 0


def _sync(args: argparse.Namespace) -> int:
    import os

    from lablens.errors import LablensError
    from lablens.sdk.sync import run_dirs, sync_run

    # As `wandb sync` reads ./wandb: the folder init() writes runs into.
    path = args.path or os.environ.get("LABLENS_DIR") or "lablens"
    try:
        dirs = run_dirs(path)
    except LablensError as exc:
        print(f"lablens {exc}", file=sys.stderr)  # the message starts with "sync:"
        return 2
    failed = 0
    for run_dir in dirs:
        try:
            result = sync_run(
                run_dir,
                host=args.host,
                api_key=args.api_key,
                entity=args.entity,
                project=args.project,
            )
        except (LablensError, OSError, ValueError) as exc:
            # One bad run must not keep the others from being uploaded.
            print(f"lablens sync: {run_dir}: {exc}", file=sys.stderr)
            failed += 1
            continue
        print(f"{run_dir}: {result.describe()}")
    print(f"Synced {len(dirs) - failed} of {len(dirs)} runs.")
    return 1 if failed else 0


def _migrate(args: argparse.Namespace) -> int:
    from lablens.store.errors import StoreError
    from lablens.store.migrate import migrate

    to = args.to or os.environ.get("LABLENS_STORE")
    blobs = args.blobs or os.environ.get("LABLENS_BLOBS")
    if not to or not blobs:
        missing = "--to" if not to else "--blobs"
        print(
            f"lablens migrate: {missing} is missing (or LABLENS_STORE/LABLENS_BLOBS)",
            file=sys.stderr,
        )
        return 2
    try:
        report = migrate(
            args.source,
            to,
            blobs,
            source_blobs=args.from_blobs,
            check_blob_contents=args.check_blob_contents,
            progress=not args.quiet,
        )
    except StoreError as exc:
        print(f"lablens migrate: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "lablens migrate: interrupted; what was copied stays, run the same command again"
            " to finish",
            file=sys.stderr,
        )
        return 130
    print("\n".join(report.lines()))
    return 0 if report.ok else 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``lablens`` command."""
    parser = argparse.ArgumentParser(
        prog="lablens",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"lablens {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser(
        "server",
        help="run a tracking server; start, stop or show the local one",
        description="With no action: run a server in the foreground until Ctrl-C."
        " 'start', 'stop' and 'status' act on your local server, the one lablens.Api()"
        " and lablens.init() start in the background (LABLENS_HOME/server.json).",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8123, help="port (default 8123)")
    p.add_argument("--data", default=None, help="data dir (default LABLENS_HOME/data)")
    p.add_argument(
        "--blobs",
        default=None,
        metavar="URL",
        help="where the bytes of files, artifacts and media go: file:///path or"
        " s3://BUCKET/PREFIX (credentials and endpoint from AWS_* variables; default"
        " LABLENS_BLOBS, else the data dir's blobs/; required with a postgresql:// store)",
    )
    p.add_argument(
        "--store",
        default=None,
        metavar="URL",
        help="the store instead of --data: duckdb:///dir, or postgresql://USER:PASSWORD@HOST/DB"
        " for a team server (with --blobs; several servers may share one database). Default"
        " LABLENS_STORE",
    )
    p.add_argument("--log-level", default="warning", help="uvicorn log level")
    actions = p.add_subparsers(dest="action", metavar="{start,stop,status}")
    actions.add_parser(
        "start",
        help="start the local server in the background, as lablens.Api() does",
        description="Start your local server in the background on a free loopback port over"
        " LABLENS_HOME/data, unless it runs already.",
    )
    actions.add_parser(
        "stop",
        help="stop the local server (its data stays)",
        description="Stop your local server, the one lablens.Api() and lablens.init() started"
        " in the background. Its data stays; the next lablens.Api() starts it again.",
    )
    actions.add_parser(
        "status",
        help="whether the local server runs, its address, pid and data dir",
        description="Show whether your local server runs: its address, pid, data dir, log"
        " and user. Exits with 0 when it runs, 1 when it does not.",
    )
    p.set_defaults(func=_server)

    p = sub.add_parser("login", help="store an API key for a server")
    p.add_argument("--host", default=None, help="server address (default LABLENS_HOST)")
    p.add_argument("--key", default=None, help="the API key (asked for when missing)")
    p.add_argument(
        "--username",
        default=None,
        help="sign in with a username (or email) and password instead of a key",
    )
    p.add_argument("--password", default=None, help="the password (asked for when missing)")
    p.set_defaults(func=_login)

    host_help = "server address (default LABLENS_HOST, else the local server)"
    p = sub.add_parser("user", help="create and list users (admins)")
    users = p.add_subparsers(dest="action", required=True)
    q = users.add_parser("create", help="create a user; prints their first API key")
    q.add_argument("username", nargs="?", default=None, help="the username (default: from --email)")
    q.add_argument("--email", default=None)
    q.add_argument("--name", default=None, help="display name")
    q.add_argument("--admin", action="store_true", help="make the user an admin")
    q.add_argument("--password", default=None, help="a password for lablens login --username")
    q.add_argument("--ask-password", action="store_true", help="ask for the password")
    q.add_argument("--host", default=None, help=host_help)
    q = users.add_parser("list", help="list users")
    q.add_argument("--search", default=None, help="only usernames or emails containing this")
    q.add_argument("--host", default=None, help=host_help)
    p.set_defaults(func=_user)

    p = sub.add_parser("key", help="create, list and revoke API keys")
    keys = p.add_subparsers(dest="action", required=True)
    q = keys.add_parser("create", help="make a key; prints it (shown only now)")
    q.add_argument("--name", default=None, help="what the key is for")
    q = keys.add_parser("list", help="list keys (ids, never the keys)")
    q = keys.add_parser("revoke", help="revoke a key at once")
    q.add_argument("id", help="the key's id (from 'lablens key list') or the key")
    for q in keys.choices.values():
        q.add_argument("--user", default=None, help="another user's keys (admins)")
        q.add_argument("--host", default=None, help=host_help)
    p.set_defaults(func=_key)

    p = sub.add_parser(
        "runs",
        help="list the runs of a project",
        description="Runs of a project, read from the server lablens.Api() finds.",
    )
    runs = p.add_subparsers(dest="action", required=True)
    q = runs.add_parser(
        "ls",
        help="list runs as a table: id, name, state, created, a few summary values",
        description="List the runs of a project, newest first: id, name, state, created"
        " and a few summary values, in one request.",
        epilog='example:\n  lablens runs ls digits-mlp --filter \'{"state": "FINISHED"}\' \\\n'
        "      --order=-summary_metrics.val/acc --summary val/acc,val/loss",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    q.add_argument("path", help="the project: entity/project, or project in your workspace")
    q.add_argument(
        "--filter",
        default=None,
        metavar="JSON",
        help='a MongoDB-style filter as JSON, e.g. \'{"config.lr": {"$gte": 0.01}}\'',
    )
    q.add_argument(
        "--order",
        default="-created_at",
        help="+ or - and a field, e.g. -summary_metrics.val/acc (default -created_at)",
    )
    q.add_argument("--limit", type=int, default=20, help="at most this many runs (default 20)")
    q.add_argument(
        "--summary",
        default=None,
        metavar="KEYS",
        help="summary keys to show, comma-separated (default: three with numbers,"
        " validation and test metrics first)",
    )
    q.add_argument("--host", default=None, help=host_help)
    p.set_defaults(func=_runs)

    p = sub.add_parser(
        "demo",
        help="train small models into your lablens and open the quickstart notebook",
        description="Train about 20 small neural networks into the project digits-mlp of your"
        " default lablens (LABLENS_HOST, else your local server, started in the background and"
        " left running), then open JupyterLab on notebooks/quickstart.ipynb; its URL is the"
        " last line printed. Runs already there are not trained again.",
    )
    p.add_argument(
        "--data",
        default=None,
        help="train into a server of its own over this data dir instead (stopped at the end)",
    )
    p.add_argument("--runs", type=int, default=20, help="how many models to train (default 20)")
    p.add_argument("--epochs", type=int, default=100, help="epochs per model (default 100)")
    p.add_argument(
        "--headless",
        action="store_true",
        help="execute the notebook instead of opening JupyterLab; the last line says where the"
        " runs are",
    )
    p.set_defaults(func=_demo)

    p = sub.add_parser(
        "import",
        help="import runs from TensorBoard, MLflow, W&B offline runs or SwanLab logs",
        description="Import runs from another tool. Importing the same source again adds only"
        " what is new; broken source files are reported and skipped.",
    )
    p.add_argument(
        "source",
        choices=["tensorboard", "mlflow", "wandb", "swanlab"],
        help="the tool the runs come from",
    )
    p.add_argument(
        "path",
        help="a TensorBoard log dir, an MLflow tracking URI or store path,"
        " a W&B run dir (wandb/), or a SwanLab log dir (swanlog/)",
    )
    p.add_argument(
        "--project",
        default=None,
        help="the project to import into (default: the source's own project or experiment name)",
    )
    p.add_argument("--entity", default=None, help="the workspace (default: your own)")
    p.add_argument(
        "--host", default=None, help="the server (default LABLENS_HOST, else the local server)"
    )
    p.add_argument(
        "--api-key", default=None, help="the API key (default LABLENS_API_KEY, else the stored one)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_import)

    p = sub.add_parser(
        "sync",
        help="upload runs from their local logs (offline runs, killed or cut-off processes)",
        description="Upload runs from their logs (run.wal): offline runs"
        " (lablens.init(mode='offline')), and what a killed or cut-off process had logged."
        " Safe to run again: nothing is stored twice.",
    )
    p.add_argument(
        "path",
        nargs="?",
        default=None,
        help="a run directory (run-<time>-<id>) or a folder of them (default: LABLENS_DIR,"
        " else ./lablens, where lablens.init() writes them)",
    )
    p.add_argument(
        "--host", default=None, help="the server (default: the run's own, else LABLENS_HOST)"
    )
    p.add_argument(
        "--api-key", default=None, help="the API key (default LABLENS_API_KEY, else the stored one)"
    )
    p.add_argument("--entity", default=None, help="the workspace (default: the run's own)")
    p.add_argument("--project", default=None, help="the project (default: the run's own)")
    p.set_defaults(func=_sync)

    p = sub.add_parser(
        "migrate",
        help="copy a data dir into a PostgreSQL store and a blob store (for a team server)",
        description="Copy an embedded data dir (its server stopped) into a PostgreSQL database\n"
        "and a blob store, keeping every id, then check row counts and checksums of every\n"
        "table and every blob. Safe to run again: after an interruption it copies only what\n"
        "is missing. Exits with 0 when everything is equal, 1 when something differs.",
        epilog="example:\n  lablens migrate --from ~/.lablens/data \\\n"
        "      --to postgresql://lablens@db.lab:5432/lablens --blobs s3://lab-bucket/lablens",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--from", dest="source", required=True, metavar="DATA_DIR", help="the data dir")
    p.add_argument(
        "--to", default=None, metavar="URL", help="postgresql://... (default LABLENS_STORE)"
    )
    p.add_argument(
        "--blobs",
        default=None,
        metavar="URL",
        help="where the blobs go: s3://BUCKET/PREFIX or file:///path (default LABLENS_BLOBS)",
    )
    p.add_argument(
        "--from-blobs",
        default=None,
        metavar="URL",
        help="where the data dir's blobs are, if its server ran with --blobs (default: its blobs/)",
    )
    p.add_argument(
        "--check-blob-contents",
        action="store_true",
        help="read every blob back from the target and check its sha256 (default: its size)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_migrate)
    cli_agent.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lablens`` command."""
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
