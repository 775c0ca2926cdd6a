# Moderation actions (the history of moderators), and the new removal and refusal reasons.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0004_join_policies"),
    ]

    operations = [
        migrations.AlterField(
            model_name="participation",
            name="leave_reason",
            field=models.CharField(
                blank=True,
                choices=[
                    ("left", "left"),
                    ("disconnected", "disconnected"),
                    ("replaced", "replaced"),
                    ("kicked", "kicked"),
                    ("room_closed", "room_closed"),
                    ("media_failed", "media_failed"),
                    ("worker_shutdown", "worker_shutdown"),
                    ("worker_lost", "worker_lost"),
                    ("connect_timeout", "connect_timeout"),
                    ("removed_by_moderator", "removed_by_moderator"),
                    ("refused", "refused"),
                ],
                max_length=32,
            ),
        ),
        migrations.AlterField(
            model_name="participation",
            name="refusal",
            field=models.CharField(
                blank=True,
                choices=[
                    ("room not found", "room not found"),
                    ("room full", "room full"),
                    ("room locked", "room locked"),
                    ("invalid room name", "invalid room name"),
                    ("invalid params", "invalid params"),
                    ("room unavailable", "room unavailable"),
                    ("room busy", "room busy"),
                    ("resume refused", "resume refused"),
                    ("pin required", "pin required"),
                    ("wrong pin", "wrong pin"),
                    ("token required", "token required"),
                    ("token invalid", "token invalid"),
                    ("token expired", "token expired"),
                    ("token for another room", "token for another room"),
                    ("login required", "login required"),
                    ("not allowed", "not allowed"),
                    ("too many attempts", "too many attempts"),
                    ("too many new rooms", "too many new rooms"),
                ],
                max_length=32,
            ),
        ),
        migrations.CreateModel(
            name="ModerationAction",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("moderator_peer_id", models.CharField(db_index=True, max_length=40)),
                ("moderator_name", models.CharField(max_length=100)),
                (
                    "action",
                    models.CharField(
                        choices=[
                            ("mute_track", "mute_track"),
                            ("unmute_track", "unmute_track"),
                            ("remove_peer", "remove_peer"),
                        ],
                        max_length=32,
                    ),
                ),
                ("target_peer_id", models.CharField(db_index=True, max_length=40)),
                ("target_name", models.CharField(max_length=100)),
                (
                    "track_id",
                    models.CharField(blank=True, help_text="Empty for a removal.", max_length=200),
                ),
                ("at", models.DateTimeField()),
                (
                    "room",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="moderation_actions",
                        to="rooms.room",
                    ),
                ),
            ],
            options={
                "ordering": ["-at"],
                "indexes": [
                    models.Index(fields=["room", "at"], name="rooms_moder_room_id_63e9a7_idx")
                ],
            },
        ),
    ]
