from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from yanxing.regions.loader import load_divisions


class Command(BaseCommand):
    help = "Load administrative divisions (all levels by default; --prefix limits townships and villages)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--prefix", action="append", help="code prefix, e.g. 140822 (repeatable)"
        )
        parser.add_argument("--max-level", type=int, default=5, help="1 province … 5 village")

    def handle(self, *args: object, **options: object) -> None:
        prefixes = options["prefix"]
        count = load_divisions(
            settings.DIVISIONS_DATA_DIR,
            prefixes=prefixes if isinstance(prefixes, list) else None,
            max_level=int(str(options["max_level"])),
        )
        self.stdout.write(f"loaded {count} divisions")
