#!/usr/bin/env python3
"""Write one new random secret to a file readable by its owner only, atomically.

Runs on the control machine. An existing file is never touched (Ansible calls this with `creates:`),
so a secret is generated once per cluster and every later run reuses it.
"""
import argparse
import base64
import os
import secrets
import string


def generate(kind: str, length: int) -> str:
    if kind == "key32":
        # URL-safe base64 of exactly 32 random bytes (44 characters with padding): a Fernet key, or an
        # Ed25519 seed.
        return base64.urlsafe_b64encode(os.urandom(32)).decode()
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(length))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kind", choices=["password", "key32"], required=True)
    parser.add_argument("--length", type=int, default=32)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    tmp = f"{args.out}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(generate(args.kind, args.length))
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
