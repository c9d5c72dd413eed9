"""Settings for `make run`: an embedded SQLite database and demo keys written under var/."""

from .base import *  # noqa: F403
from .base import VAR_DIR
from .devkeys import ensure_local_keys

DEBUG = True
_keys = ensure_local_keys(VAR_DIR)
SECRET_KEY = SECRET_KEY or _keys["secret"]  # noqa: F405
FIELD_ENCRYPTION_KEYS = FIELD_ENCRYPTION_KEYS or _keys["field"]  # noqa: F405
BLIND_INDEX_KEY = BLIND_INDEX_KEY or _keys["index"]  # noqa: F405
