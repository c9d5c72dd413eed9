"""Random keys for a local machine, kept in var/keys.json (never committed)."""

import base64
import json
import os
import secrets
from pathlib import Path


def ensure_local_keys(var_dir: Path) -> dict[str, str]:
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / "keys.json"
    if path.exists():
        return dict(json.loads(path.read_text()))
    keys = {
        "secret": secrets.token_urlsafe(50),
        "field": "k1:" + base64.b64encode(os.urandom(32)).decode(),
        "index": base64.b64encode(os.urandom(32)).decode(),
    }
    path.write_text(json.dumps(keys))
    path.chmod(0o600)
    return keys
