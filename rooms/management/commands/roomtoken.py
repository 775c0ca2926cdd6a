"""``manage.py roomtoken ROOM --identity ID``: print a signed join token (rooms.tokens)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rooms import tokens
from rooms.grants import PARTICIPANT, Grant


class Command(BaseCommand):
    help = (
        "Print a signed join token for ROOM: the client passes it as the `token` join "
        "parameter (or ?token= in the room page's URL)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("room")
        parser.add_argument("--identity", required=True, help="who the bearer is (1-128 chars)")
        parser.add_argument(
            "--name", default="", help="the display name, which wins over the client's"
        )
        parser.add_argument(
            "--ttl", type=int, default=tokens.DEFAULT_TTL_SECONDS, help="lifetime in seconds"
        )
        parser.add_argument("--moderator", action="store_true", help="add the moderate grant")

    def handle(self, *args: Any, **options: Any) -> None:
        grants = PARTICIPANT | {Grant.MODERATE} if options["moderator"] else PARTICIPANT
        try:
            token = tokens.issue(
                options["room"],
                options["identity"],
                display_name=options["name"],
                grants=grants,
                ttl=options["ttl"],
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(token)
