# Joins the access branch's 0004 (join policies) and the moderators branch's 0004
# (moderation actions); leave_reason gets both branches' new reasons.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("rooms", "0004_join_policies"),
        ("rooms", "0004_moderation_actions"),
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
    ]
