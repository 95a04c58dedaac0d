"""`fletchdb serve`, `fletchdb token`, export and import (also `python -m flight_server ...`).

Settings resolve as: defaults < TOML file (`--config`) < environment (`FLETCHDB_<NAME>`) < flags.
Every setting of `flight_server.config.SETTINGS` is a flag (`--max-batch-rows 5000`).
"""

from __future__ import annotations

import argparse
import os
import sys
import tomllib
from pathlib import Path
from typing import Any

from .config import SETTINGS, Settings
from .errors import FletchError, InvalidArgumentError


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `fletchdb` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:  # bare `fletchdb`: say what it can do, start nothing
        parser.print_help()
        return 2
    try:
        if args.command == "token":
            print(_token(args))
            return 0
        if args.command in ("export", "import"):
            return _transfer(args)
        return _serve(args)
    except (FletchError, OSError) as exc:
        print(f"fletchdb: error: {exc}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fletchdb", description="FletchDB server and tools")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="Serve a data directory over Arrow Flight")
    token = sub.add_parser("token", help="Mint a JWT for this server")
    for p in (parser, serve, token):
        # SUPPRESS: a flag not given leaves no attribute, so a subcommand never resets a value
        hide = argparse.SUPPRESS
        p.add_argument("--config", type=Path, default=hide, help="TOML file of settings")
        for s in SETTINGS:
            flag = "--" + s.name.replace("_", "-")
            if isinstance(s.default, bool):
                # --name / --no-name: a setting that defaults to True can be turned off too
                p.add_argument(
                    flag,
                    dest=s.name,
                    action=argparse.BooleanOptionalAction,
                    default=hide,
                    help=_help_text(s.help),
                )
            else:
                kind = type(s.default).__name__.upper()
                p.add_argument(
                    flag, dest=s.name, metavar=kind, default=hide, help=_help_text(s.help)
                )
    token.add_argument("--tenant", dest="token_tenant", required=True, help="Tenant, or '*'")
    token.add_argument("--role", choices=("reader", "writer", "admin"), required=True)
    token.add_argument("--databases", default="*", help="Comma-separated names, or '*'")
    token.add_argument("--ttl", default="1h", help="Lifetime: 90, 30s, 15m, 1h, 7d")
    token.add_argument("--sub", default="fletchdb", help="Subject (who the token is for)")
    token.add_argument("--private-key", type=Path, help="PEM private key for RS256/ES256/EdDSA")
    token.add_argument("--kid", help="Key id to put in the token header")
    _transfer_parsers(sub)
    return parser


def _help_text(text: str) -> str:
    """A setting's help as argparse help: argparse %-formats it, so a literal % is doubled."""
    return text.replace("%", "%%")


def _transfer_parsers(sub: Any) -> None:
    """`fletchdb export` and `fletchdb import`: a collection to / from one Parquet file."""
    export = sub.add_parser("export", help="Write a collection to a Parquet file (a backup)")
    export.add_argument("collection", help="Name of the collection to export")
    export.add_argument("file", type=Path, help="Parquet file to write (replaced if it exists)")
    restore = sub.add_parser("import", help="Create a collection from an exported Parquet file")
    restore.add_argument("file", type=Path, help="Parquet file written by fletchdb export")
    restore.add_argument("--name", help="Name of the new collection (default: the exported one)")
    for p in (export, restore):
        where = p.add_mutually_exclusive_group(required=True)
        where.add_argument("--path", type=Path, default=argparse.SUPPRESS, help="Data directory")
        where.add_argument("--uri", help="Server address, grpc://host:port or grpc+tls://...")
        p.add_argument("--token", help="JWT for --uri (default: $FLETCHDB_TOKEN)")
        p.add_argument("--tls-root-certs", type=Path, help="PEM CA bundle for grpc+tls://")
        p.add_argument("--tenant", dest="scope_tenant", default="default_tenant")
        p.add_argument("--database", dest="scope_database", default="default_database")
        p.add_argument("--batch-size", type=int, help="Records per batch (default: settings)")
        p.add_argument(
            "--progress",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="Progress bar on stderr (default: when stderr is a terminal)",
        )


def resolve_settings(args: argparse.Namespace) -> Settings:
    """Settings from the TOML file, the environment and flags (in rising precedence)."""
    values: dict[str, Any] = {}
    config = getattr(args, "config", None)
    if config is not None:
        with open(config, "rb") as f:
            from_file = tomllib.load(f)
        unknown = sorted(set(from_file) - {s.name for s in SETTINGS})
        if unknown:
            raise InvalidArgumentError(f"Unknown setting(s) in {config}: {', '.join(unknown)}")
        # the environment outranks the file: leave a name to Settings when its variable is set
        values = {k: v for k, v in from_file.items() if f"FLETCHDB_{k.upper()}" not in os.environ}
    for s in SETTINGS:
        value = getattr(args, s.name, None)
        if value is not None:
            values[s.name] = value
    return Settings(**values)


def _serve(args: argparse.Namespace) -> int:
    from .serve import serve

    serve(resolve_settings(args))
    return 0


def _transfer(args: argparse.Namespace) -> int:
    import fletchdb

    scope = {"tenant": args.scope_tenant, "database": args.scope_database}
    if args.uri is not None:
        certs = args.tls_root_certs.read_bytes() if args.tls_root_certs else None
        client = fletchdb.FlightClient(args.uri, args.token, tls_root_certs=certs, **scope)
    else:
        client = fletchdb.PersistentClient(args.path, resolve_settings(args), **scope)
    progress = sys.stderr.isatty() if args.progress is None else args.progress
    options = {"progress": progress, "batch_size": args.batch_size}
    with client:
        if args.command == "export":
            n = client.export_collection(args.collection, args.file, **options)
            print(f"exported {n} records of {args.collection} to {args.file}")
        else:
            collection = client.import_collection(args.file, args.name, **options)
            print(f"imported {collection.count()} records into {collection.name}")
    return 0


def _check_secret_exists(settings: Settings) -> None:
    """Refuse to mint with a secret made up here: it would match no server."""
    from .gateway.auth import SECRET_FILE

    stored = Path(settings.path).resolve() / SECRET_FILE
    if not settings.auth_secret and not stored.exists():
        raise InvalidArgumentError(
            f"No server secret at {stored}: pass --path with the data directory of the server "
            "(it keeps its secret there once it has served), or --auth-secret with the server's "
            "secret. A new secret would mint a token no server accepts."
        )


def _token(args: argparse.Namespace) -> str:
    from .gateway.auth import ALL, hmac_secret, mint_token, parse_algorithms, parse_ttl

    settings = resolve_settings(args)
    algorithm = parse_algorithms(settings.auth_algorithms)[0]
    ttl_seconds = parse_ttl(args.ttl)
    if args.private_key is not None:
        key: Any = args.private_key.read_text()
    else:
        _check_secret_exists(settings)
        key = hmac_secret(settings, Path(settings.path))
    databases = ALL if args.databases == ALL else [d for d in args.databases.split(",") if d]
    return mint_token(
        key,
        tenant=args.token_tenant,
        role=args.role,
        databases=databases,
        sub=args.sub,
        ttl_seconds=ttl_seconds,
        algorithm=algorithm,
        audience=settings.auth_audience or None,
        issuer=settings.auth_issuer or None,
        kid=args.kid,
    )
