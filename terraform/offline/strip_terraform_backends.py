#!/usr/bin/env python3
"""Make a Terraform CLI source tree from the Go module proxy buildable.

Terraform's go.mod (1.9 and later) `replace`s nine nested modules with ./internal/...
directories: eight remote-state backends (azurerm, consul, cos, gcs, kubernetes, oss,
pg, s3) and internal/legacy. A module zip never contains nested modules, so those
directories are missing and the build fails. This drops them: the go.mod lines that
name them and the eight backends' registrations in internal/backend/init/init.go.
internal/legacy is only used by those backends.

The resulting CLI is for the kit's offline checks, which always run `init -backend=false`;
the local, http, inmem, remote and cloud backends stay. Also drops `godebug tlskyber`,
which newer Go toolchains reject as unknown.

Usage: strip_terraform_backends.py SOURCE_DIR
"""

from __future__ import annotations

import pathlib
import re
import sys

NESTED = "github.com/hashicorp/terraform/internal/"
ALIASES = ["backendAzure", "backendConsul", "backendCos", "backendGCS",
           "backendKubernetes", "backendOSS", "backendPg", "backendS3"]


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = pathlib.Path(sys.argv[1])

    gomod = root / "go.mod"
    lines = gomod.read_text().splitlines(keepends=True)
    kept = [l for l in lines if NESTED not in l and not l.startswith("godebug tlskyber")]
    gomod.write_text("".join(kept))

    init = root / "internal/backend/init/init.go"
    text = init.read_text()
    pattern = re.compile(r"^.*\b(" + "|".join(ALIASES) + r")\b.*\n", re.M)
    removed = len(pattern.findall(text))
    if removed != 2 * len(ALIASES):
        sys.exit(f"strip: expected {2 * len(ALIASES)} backend lines in {init}, found {removed}")
    init.write_text(pattern.sub("", text))
    print(f"strip: dropped {len(lines) - len(kept)} go.mod lines and {removed} init.go lines", file=sys.stderr)


if __name__ == "__main__":
    main()
