"""The ``lablens`` command: ``server``, ``login``, ``demo``."""

from __future__ import annotations

import argparse
import sys

from lablens import __version__


def _server(args: argparse.Namespace) -> int:
    from lablens.server.main import serve

    serve(args.host, args.port, args.data, log_level=args.log_level)
    return 0


def _login(args: argparse.Namespace) -> int:
    from lablens import _settings
    from lablens.transport import Transport

    host = _settings.resolve_host(args.host)
    key = args.key or input(f"API key for {host}: ").strip()
    viewer = Transport(host, key).get_json("/api/v1/viewer")
    _settings.store_credentials(host, key, viewer["username"])
    print(f"Logged in to {host} as {viewer['username']}.")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from lablens.demo import main as demo_main

    return demo_main(args)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``lablens`` command."""
    parser = argparse.ArgumentParser(prog="lablens", description=__doc__)
    parser.add_argument("--version", action="version", version=f"lablens {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("server", help="run a tracking server in the foreground")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8123, help="port (default 8123)")
    p.add_argument("--data", default=None, help="data dir (default LABLENS_HOME/data)")
    p.add_argument("--log-level", default="warning", help="uvicorn log level")
    p.set_defaults(func=_server)

    p = sub.add_parser("login", help="store an API key for a server")
    p.add_argument("--host", default=None, help="server address (default LABLENS_HOST)")
    p.add_argument("--key", default=None, help="the API key (asked for when missing)")
    p.set_defaults(func=_login)

    p = sub.add_parser("demo", help="build the demo data by training small models")
    p.add_argument("--data", default=None, help="data dir of the demo server")
    p.add_argument("--runs", type=int, default=20, help="how many models to train")
    p.add_argument("--epochs", type=int, default=100, help="epochs per model")
    p.add_argument("--headless", action="store_true", help="execute the notebook, no JupyterLab")
    p.set_defaults(func=_demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``lablens`` command."""
    args = build_parser().parse_args(argv)
    if getattr(args, "data", "x") is None and args.command == "server":
        from lablens._settings import home

        args.data = str(home() / "data")
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
