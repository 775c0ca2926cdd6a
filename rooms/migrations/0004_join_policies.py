# Join policies per room (issue 10): PIN hash, users and groups, refused joins in the history.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("rooms", "0003_participation_connect_timeout"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="room",
            options={
                "ordering": ["name"],
                "permissions": [
                    ("join_any_room", "Can join every room of the users policy"),
                    ("moderate_any_room", "Can moderate every room of the users policy"),
                ],
            },
        ),
        migrations.AddField(
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
        migrations.AddField(
            model_name="room",
            name="allowed_groups",
            field=models.ManyToManyField(
                blank=True,
                help_text="Users policy: members of these groups may join.",
                related_name="allowed_rooms",
                to="auth.group",
            ),
        ),
        migrations.AddField(
            model_name="room",
            name="allowed_users",
            field=models.ManyToManyField(
                blank=True,
                help_text="Users policy: these users may join (as may holders of 'Can join every room').",
                related_name="allowed_rooms",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="room",
            name="join_policy",
            field=models.CharField(
                choices=[
                    ("open", "Open: anyone with the link"),
                    ("pin", "PIN: the join carries the room's PIN"),
                    ("token", "Token: the join carries a signed join token for this room"),
                    ("users", "Users: logged-in users allowed for this room"),
                ],
                default="open",
                max_length=8,
            ),
        ),
        migrations.AddField(
            model_name="room",
            name="moderator_groups",
            field=models.ManyToManyField(
                blank=True,
                help_text="Users policy: members of these groups join with the moderate grant.",
                related_name="moderated_rooms",
                to="auth.group",
            ),
        ),
        migrations.AddField(
            model_name="room",
            name="moderators",
            field=models.ManyToManyField(
                blank=True,
                help_text="Users policy: these users join with the moderate grant.",
                related_name="moderated_rooms",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="room",
            name="pin_hash",
            field=models.CharField(blank=True, editable=False, max_length=256),
        ),
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
                    ("refused", "refused"),
                ],
                max_length=32,
            ),
        ),
    ]
