"""What an admin edits and what must outlive a process: rooms and who was in them."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from rooms.messages import RemovalReason
from rooms.names import ROOM_NAME_MAX_LENGTH

room_name_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
    "Use letters, digits, '-' or '_', starting with a letter or digit.",
)


class Room(models.Model):
    name = models.CharField(
        max_length=ROOM_NAME_MAX_LENGTH,
        unique=True,
        validators=[room_name_validator],
        help_text="The part after room: in the topic, and in the /room/<name> URL.",
    )
    title = models.CharField(max_length=200, blank=True)
    max_participants = models.PositiveIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )
    locked = models.BooleanField(default=False, help_text="A locked room refuses new joins.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.title or self.name


class Participation(models.Model):
    """One peer's stay in a room, from join to leave."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="participations")
    peer_id = models.CharField(max_length=40, db_index=True)
    display_name = models.CharField(max_length=100)
    joined_at = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    leave_reason = models.CharField(
        max_length=32,
        blank=True,
        choices=[(reason.value, reason.value) for reason in RemovalReason],
    )

    class Meta:
        ordering = ["-joined_at"]
        indexes = [models.Index(fields=["room", "left_at"])]

    def __str__(self) -> str:
        return f"{self.display_name} in {self.room.name}"
