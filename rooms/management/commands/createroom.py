"""``manage.py createroom NAME``: a room made ahead of its first join, with its policy."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rooms import services
from rooms.models import JoinPolicy, Room


class Command(BaseCommand):
    help = (
        "Create a room. With VIDEOROOM_ROOM_AUTO_CREATE=false, rooms exist only when made "
        "here, in the admin, or by a valid signed join token."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="the room name (the part after room: in the topic)")
        parser.add_argument(
            "--policy", choices=[policy.value for policy in JoinPolicy], default="open"
        )
        parser.add_argument("--pin", default="", help="the PIN of a pin room (stored hashed)")
        parser.add_argument("--max-participants", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        name: str = options["name"]
        if Room.objects.filter(name=name).exists():
            raise CommandError(f"room {name!r} already exists")
        policy = JoinPolicy(options["policy"])
        if options["pin"] and policy != JoinPolicy.PIN:
            raise CommandError("--pin needs --policy pin")
        try:
            room = services.create_room(
                name,
                policy=policy,
                pin=options["pin"],
                max_participants=options["max_participants"],
            )
        except ValidationError as error:
            problems = "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
            )
            raise CommandError(problems) from None
        self.stdout.write(
            f"created room {room.name} (policy {room.join_policy}, "
            f"at most {room.max_participants} participants)"
        )
