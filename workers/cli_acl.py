"""`newswire acl`: each role's Redis user, printed or installed, and the URL each part uses."""

import argparse
import json
import os
import secrets
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import redis
from newswire.services.broker import redis_errors
from newswire.services.ops.acl import ROLES, Role, roles
from newswire.workers.cli_args import AclArgs, bind
from newswire.workers.cli_output import EXIT_CONFIG, EXIT_OK, connect
from newswire.workers.runtime import load_settings


def password_for(role: str) -> str:
    """The role's password from NEWSWIRE_ACL_<ROLE>_PASSWORD (compose's .env sets them), or a
    new random one (each run without it rotates the password)."""
    return os.environ.get(f"NEWSWIRE_ACL_{role.upper()}_PASSWORD") or secrets.token_urlsafe(24)


def url_for(redis_url: str, user: str, password: str) -> str:
    """The Redis URL with the role's user and password in place of the current ones."""
    parts = urlsplit(redis_url)
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{quote(user)}:{quote(password, safe='')}@{host}"))


def cmd_acl(args: AclArgs) -> int:
    settings = load_settings()
    unknown = [r for r in args.role if r not in ROLES]
    if unknown:
        print(f"newswire acl: no role {unknown[0]!r}; the roles are {', '.join(ROLES)}")
        return EXIT_CONFIG
    chosen = [r for r in roles(settings, args.group) if not args.role or r.name in args.role]
    passwords = {r.name: password_for(r.name) for r in chosen}
    if args.apply:
        install(connect(settings), chosen, passwords)
    if args.json:
        print(json.dumps({r.name: {
            "user": r.user, "password": passwords[r.name], "rules": list(r.rules),
            "url": url_for(settings.redis_url, r.user, passwords[r.name]),
        } for r in chosen}, indent=2))  # fmt: skip
        return EXIT_OK
    for r in chosen:
        given = f"NEWSWIRE_ACL_{r.name.upper()}_PASSWORD" in os.environ
        if args.apply and given:
            # A password the operator set is not printed back (compose keeps this log).
            print(f"installed {r.user} ({r.name}: {r.purpose})")
            continue
        print(f"# {r.name}: {r.purpose}")
        print("ACL SETUSER " + " ".join(r.setuser(passwords[r.name])))
        print(f"#   NEWSWIRE_REDIS_URL={url_for(settings.redis_url, r.user, passwords[r.name])}\n")
    if args.apply:
        print(f"installed {len(chosen)} users; give each part its own NEWSWIRE_REDIS_URL")
    return EXIT_OK


def install(client: redis.Redis, chosen: list[Role], passwords: dict[str, str]) -> None:
    """ACL SETUSER each role, then ACL SAVE where Redis keeps its users in an aclfile (so a
    restarted Redis still knows them)."""
    with redis_errors("installing ACL users (the URL's user needs the ACL command)"):
        raw: Any = client  # redis-py's acl_setuser takes its own arguments, not ACL rules
        for r in chosen:
            raw.execute_command("ACL", "SETUSER", *r.setuser(passwords[r.name]))
        config: Any = client.config_get("aclfile")
        if config.get("aclfile"):
            raw.execute_command("ACL", "SAVE")


def add_parsers(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    acl = sub.add_parser(
        "acl",
        help="Redis users for each role (worker, scheduler, monitor, consumer, admin)",
        description="Print, or with --apply install, one Redis ACL user per role, each allowed "
        "only the keys and commands of its work: a consumer can read the stream in its group "
        "and ack, never write articles, trim the stream or read feeds. Passwords come from "
        "NEWSWIRE_ACL_<ROLE>_PASSWORD, or are made new. Each role's NEWSWIRE_REDIS_URL is "
        "printed; give each part its own.",
    )
    acl.add_argument("--apply", action="store_true", help="install them (needs an admin URL)")
    acl.add_argument(
        "--role", action="append", default=[], metavar="ROLE", help="only this role (repeat)"
    )
    acl.add_argument("--group", default="*", help="the consumer's group (default: any)")
    acl.add_argument("--json", action="store_true", help="users, passwords, rules and URLs")
    bind(acl, AclArgs, cmd_acl)
