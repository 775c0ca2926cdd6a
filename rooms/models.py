"""What an admin edits and what must outlive a process: rooms and who was in them."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from rooms.messages import JoinRefusal, RemovalReason
from rooms.moderation import ModerationKind
from rooms.names import PEER_ID_MAX_LENGTH, ROOM_NAME_MAX_LENGTH, ROOM_NAME_PATTERN, ROOM_NAME_RULE

room_name_validator = RegexValidator(rf"\A{ROOM_NAME_PATTERN}\Z", f"Use {ROOM_NAME_RULE}.")


def default_max_participants() -> int:
    """VIDEOROOM_DEFAULT_MAX_PARTICIPANTS, the one place that default lives."""
    return int(settings.VIDEOROOM["DEFAULT_MAX_PARTICIPANTS"])


class JoinPolicy(models.TextChoices):
    """Who may enter a room (rooms.access decides each join)."""

    OPEN = "open", "Open: anyone with the link"
    PIN = "pin", "PIN: the join carries the room's PIN"
    TOKEN = "token", "Token: the join carries a signed join token for this room"
    USERS = "users", "Users: logged-in users allowed for this room"


class Room(models.Model):
    name = models.CharField(
        max_length=ROOM_NAME_MAX_LENGTH,
        unique=True,
        validators=[room_name_validator],
        help_text="The part after room: in the topic, and in the /room/<name> URL.",
    )
    title = models.CharField(max_length=200, blank=True)
    max_participants = models.PositiveIntegerField(
        default=default_max_participants, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    locked = models.BooleanField(default=False, help_text="A locked room refuses new joins.")
    join_policy = models.CharField(
        max_length=8, choices=JoinPolicy.choices, default=JoinPolicy.OPEN
    )
    # Django's password hash of the PIN (make_password), never the PIN itself.
    pin_hash = models.CharField(max_length=256, blank=True, editable=False)
    allowed_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="allowed_rooms",
        help_text="Users policy: these users may join (as may holders of 'Can join every room').",
    )
    allowed_groups = models.ManyToManyField(
        "auth.Group",
        blank=True,
        related_name="allowed_rooms",
        help_text="Users policy: members of these groups may join.",
    )
    moderators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="moderated_rooms",
        help_text="Users policy: these users join with the moderate grant.",
    )
    moderator_groups = models.ManyToManyField(
        "auth.Group",
        blank=True,
        related_name="moderated_rooms",
        help_text="Users policy: members of these groups join with the moderate grant.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("join_any_room", "Can join every room of the users policy"),
            ("moderate_any_room", "Can moderate every room of the users policy"),
        ]

    def __str__(self) -> str:
        return self.title or self.name

    def set_pin(self, pin: str) -> None:
        """Store ``pin`` hashed with Django's password hashers (PASSWORD_HASHERS)."""
        self.pin_hash = make_password(pin)

    def check_pin(self, pin: str) -> bool:
        """Whether ``pin`` is this room's PIN; False when the room has none."""
        return bool(self.pin_hash) and check_password(pin, self.pin_hash)


class Participation(models.Model):
    """One peer's stay in a room, from join to leave."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="participations")
    peer_id = models.CharField(max_length=PEER_ID_MAX_LENGTH, db_index=True)
    display_name = models.CharField(max_length=100)
    # A signed token's identity or the Django username; empty for a guest.
    identity = models.CharField(max_length=128, blank=True, db_index=True)
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    leave_reason = models.CharField(
        max_length=32,
        blank=True,
        choices=[(reason.value, reason.value) for reason in RemovalReason],
    )
    # Set on refused joins only (leave_reason "refused", joined_at = left_at).
    refusal = models.CharField(
        max_length=32,
        blank=True,
        choices=[(reason.value, reason.value) for reason in JoinRefusal],
    )

    class Meta:
        ordering = ["-joined_at"]
        indexes = [models.Index(fields=["room", "left_at"])]

    def __str__(self) -> str:
        return f"{self.display_name} in {self.room.name}"


class ModerationAction(models.Model):
    """One action of a moderator on another participant, as the room applied it."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="moderation_actions")
    moderator_peer_id = models.CharField(max_length=PEER_ID_MAX_LENGTH, db_index=True)
    moderator_name = models.CharField(max_length=100)
    action = models.CharField(
        max_length=32, choices=[(kind.value, kind.value) for kind in ModerationKind]
    )
    target_peer_id = models.CharField(max_length=PEER_ID_MAX_LENGTH, db_index=True)
    target_name = models.CharField(max_length=100)
    track_id = models.CharField(max_length=200, blank=True, help_text="Empty for a removal.")
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["room", "at"])]

    def __str__(self) -> str:
        return f"{self.moderator_name} {self.action} {self.target_name} in {self.room.name}"
