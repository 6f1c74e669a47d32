"""The auth file: AWS's credentials INI format, one section per user.

    [alice]
    aws_access_key_id = AKIAALICE0000000000
    aws_secret_access_key = ...
    account_id = 111122223333      ; optional: the account of alice's ARNs and all she can see

A user without `account_id` belongs to the server's account (WATCHKEEPER_ACCOUNT_ID).
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

from watchkeeper.auth.sigv4 import Principal

_ACCESS_KEY = re.compile(r"[A-Za-z0-9+/=_-]{4,128}")
_ACCOUNT = re.compile(r"\d{12}")


class AuthFileError(ValueError):
    """The auth file cannot be used; the message says which line or section and why."""


def load_keys(path: Path, default_account: str) -> dict[str, Principal]:
    """Access key id → principal. Refuses a file that could let a request in by mistake."""
    parser = configparser.ConfigParser(interpolation=None, inline_comment_prefixes=(";", "#"))
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file(handle)
    except OSError as exc:
        raise AuthFileError(f"cannot read the auth file {path}: {exc.strerror or exc}") from None
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise AuthFileError(f"the auth file {path} is not an INI file: {exc}") from None
    keys: dict[str, Principal] = {}
    for user in parser.sections():
        section = parser[user]
        access = section.get("aws_access_key_id", "").strip()
        secret = section.get("aws_secret_access_key", "").strip()
        account = section.get("account_id", default_account).strip()
        if not access or not secret:
            raise AuthFileError(
                f"{path} [{user}]: needs both aws_access_key_id and aws_secret_access_key"
            )
        if not _ACCESS_KEY.fullmatch(access):
            raise AuthFileError(f"{path} [{user}]: aws_access_key_id has characters a SigV4 scope cannot carry")
        if not _ACCOUNT.fullmatch(account):
            raise AuthFileError(f"{path} [{user}]: account_id must be 12 digits, got {account!r}")
        if access in keys:
            raise AuthFileError(f"{path} [{user}]: access key {access} is also given to [{keys[access].user}]")
        keys[access] = Principal(user=user, access_key=access, secret_key=secret, account=account)
    if not keys:
        raise AuthFileError(f"the auth file {path} names no user: add a [section] with aws_access_key_id and "
                            "aws_secret_access_key")
    return keys
