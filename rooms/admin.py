"""Rooms and participation history in the Django admin, with live participants.

Live state comes from the registry (rooms.admin_actions); kicks and closes go to
the room's owner over the channel layer. Admin views are synchronous, so each
call crosses into async with async_to_sync: under daphne that runs on the
server's own event loop, whose registry is the one to use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import URLPattern, path, reverse

from rooms import admin_actions
from rooms.admin_actions import AdminActionError
from rooms.layers import LayerUnavailable
from rooms.metrics import figures as live_figures
from rooms.models import JoinPolicy, ModerationAction, Participation, Room
from rooms.outage import is_outage, redis_health
from rooms.web.admission import PIN_MAX_CHARS

logger = logging.getLogger(__name__)


def _log_failure(error: Exception, message: str, *args: Any) -> None:
    """Log a failed live action: a Redis outage once per outage, anything else in full."""
    if is_outage(error) or isinstance(error, LayerUnavailable):
        redis_health.failed(message % args, error)
    else:
        logger.error(message, *args, exc_info=error)


LIVE_COUNT_HEADER = "Live participants"
# Shown instead of live state when the registry cannot be read (Redis down):
# the admin must still be able to edit rooms.
UNKNOWN = "?"
LIVE_STATE_UNAVAILABLE = "Live state is unavailable right now; see the server log."


class RoomForm(forms.ModelForm):
    """The room, with a write-only PIN: stored hashed, never shown back."""

    pin = forms.CharField(
        required=False,
        max_length=PIN_MAX_CHARS,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="PIN policy: set a new PIN (stored hashed). Leave empty to keep the current one.",
    )

    class Meta:
        model = Room
        fields = [
            "name",
            "title",
            "max_participants",
            "locked",
            "join_policy",
            "allowed_users",
            "allowed_groups",
            "moderators",
            "moderator_groups",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        has_pin = bool(cleaned.get("pin")) or bool(self.instance.pin_hash)
        if cleaned.get("join_policy") == JoinPolicy.PIN and not has_pin:
            self.add_error("pin", "A room of the PIN policy needs a PIN.")
        return cleaned

    def save(self, commit: bool = True) -> Room:
        room: Room = super().save(commit=False)
        if self.cleaned_data.get("pin"):
            room.set_pin(self.cleaned_data["pin"])
        if commit:
            room.save()
            self.save_m2m()
        return room


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    form = RoomForm
    list_display = [
        "name",
        "title",
        "join_policy",
        "max_participants",
        "locked",
        "created_at",
        "updated_at",
    ]
    list_filter = ["join_policy", "locked"]
    search_fields = ["name", "title"]
    readonly_fields = ["created_at", "updated_at"]
    filter_horizontal = ["allowed_users", "allowed_groups", "moderators", "moderator_groups"]
    fieldsets = [
        (None, {"fields": ["name", "title", "max_participants", "locked"]}),
        ("Who may enter", {"fields": ["join_policy", "pin"]}),
        (
            "Users policy",
            {"fields": ["allowed_users", "allowed_groups", "moderators", "moderator_groups"]},
        ),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]
    actions = ["close_selected_rooms"]
    change_form_template = "admin/rooms/room/change_form.html"

    def get_list_display(self, request: HttpRequest) -> list[str | Callable[[Any], str | bool]]:
        # One registry read per changelist page, not one per row.
        try:
            counts: dict[str, int] | None = async_to_sync(admin_actions.live_counts)()
        except Exception as error:
            _log_failure(error, "admin: could not read live participant counts")
            counts = None

        @admin.display(description=LIVE_COUNT_HEADER)
        def live_participants(room: Room) -> str:
            return UNKNOWN if counts is None else str(counts.get(room.name, 0))

        columns = list(super().get_list_display(request))
        columns.insert(columns.index("locked") + 1, live_participants)
        return columns

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<path:object_id>/kick/",
                self.admin_site.admin_view(self.kick_view),
                name="rooms_room_kick",
            ),
            path(
                "<path:object_id>/close-room/",
                self.admin_site.admin_view(self.close_view),
                name="rooms_room_close",
            ),
            path(
                "<path:object_id>/live-figures/",
                self.admin_site.admin_view(self.live_figures_view),
                name="rooms_room_live_figures",
            ),
        ]
        return own + super().get_urls()

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = dict(extra_context or {})
        room = self.get_object(request, object_id)
        if room is not None:
            try:
                context["live_participants"] = async_to_sync(admin_actions.live_participants)(
                    room.name
                )
                context["can_manage_live"] = self.has_change_permission(request, room)
            except Exception as error:
                _log_failure(error, "admin: room %s: could not read live participants", room.name)
                context["live_unavailable"] = LIVE_STATE_UNAVAILABLE
        return super().change_view(request, object_id, form_url, context)

    def live_figures_view(self, request: HttpRequest, object_id: str) -> JsonResponse:
        """GET: the room's participants as its worker last measured them (polled by the page)."""
        room = self.get_object(request, object_id)
        if room is None:
            raise Http404("no such room")
        if not self.has_view_permission(request, room):
            raise PermissionDenied("needs the view permission")
        try:
            peers = async_to_sync(live_figures.read)(room.name)
        except Exception as error:
            _log_failure(error, "admin: room %s: could not read live figures", room.name)
            return JsonResponse({"room": room.name, "error": LIVE_STATE_UNAVAILABLE}, status=503)
        return JsonResponse({"room": room.name, "peers": peers})

    def _room_for_post(self, request: HttpRequest, object_id: str) -> Room:
        room = self.get_object(request, object_id)  # None for a malformed or unknown id
        if room is None:
            raise Http404("no such room")
        if request.method != "POST" or not self.has_change_permission(request, room):
            raise PermissionDenied("kick and close need POST and the change permission")
        return room

    def _back_to(self, room: Room) -> HttpResponseRedirect:
        return HttpResponseRedirect(reverse("admin:rooms_room_change", args=[room.pk]))

    def kick_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST peer_id: ask the room's owner to remove that participant."""
        room = self._room_for_post(request, object_id)
        peer_id = request.POST.get("peer_id", "")
        try:
            was_live = async_to_sync(admin_actions.kick_participant)(room.name, peer_id)
        except AdminActionError as error:
            self.message_user(request, str(error), messages.ERROR)
            return self._back_to(room)
        except Exception as error:
            _log_failure(error, "admin: room %s peer %s: kick failed", room.name, peer_id)
            self.message_user(request, LIVE_STATE_UNAVAILABLE, messages.ERROR)
            return self._back_to(room)
        if was_live:
            self.message_user(
                request,
                f"Participant {peer_id} is being removed from {room.name}.",
                messages.SUCCESS,
            )
        else:
            self.message_user(request, f"Room {room.name} is not live.", messages.WARNING)
        return self._back_to(room)

    def close_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """POST: ask the room's owner to close the room for everyone."""
        room = self._room_for_post(request, object_id)
        try:
            was_live = async_to_sync(admin_actions.close_room)(room.name)
        except Exception as error:
            _log_failure(error, "admin: room %s: close failed", room.name)
            self.message_user(request, LIVE_STATE_UNAVAILABLE, messages.ERROR)
            return self._back_to(room)
        if was_live:
            self.message_user(request, f"Room {room.name} is being closed.", messages.SUCCESS)
        else:
            self.message_user(request, f"Room {room.name} is not live.", messages.WARNING)
        return self._back_to(room)

    @admin.action(description="Close selected rooms (disconnect everyone)", permissions=["change"])
    def close_selected_rooms(self, request: HttpRequest, queryset: QuerySet[Room]) -> None:
        try:
            closed = [
                room.name for room in queryset if async_to_sync(admin_actions.close_room)(room.name)
            ]
        except Exception as error:
            _log_failure(error, "admin: closing rooms failed")
            self.message_user(request, LIVE_STATE_UNAVAILABLE, messages.ERROR)
            return
        if closed:
            self.message_user(
                request,
                f"Closing {len(closed)} live room(s): {', '.join(closed)}.",
                messages.SUCCESS,
            )
        else:
            self.message_user(request, "None of the selected rooms is live.", messages.WARNING)


@admin.register(Participation)
class ParticipationAdmin(admin.ModelAdmin):
    """Read-only history: rows are written by the room workers only."""

    list_display = [
        "room",
        "display_name",
        "identity",
        "peer_id",
        "joined_at",
        "left_at",
        "leave_reason",
        "refusal",
    ]
    list_filter = ["leave_reason", "refusal", ("left_at", admin.EmptyFieldListFilter), "room"]
    search_fields = ["display_name", "identity", "peer_id", "room__name"]
    list_select_related = ["room"]
    date_hierarchy = "joined_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Participation | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Participation | None = None) -> bool:
        return False


@admin.register(ModerationAction)
class ModerationActionAdmin(admin.ModelAdmin):
    """Read-only history of moderators' actions: rows are written by the room workers only."""

    list_display = [
        "at",
        "room",
        "moderator_name",
        "action",
        "target_name",
        "track_id",
        "moderator_peer_id",
        "target_peer_id",
    ]
    list_filter = ["action", "room"]
    search_fields = ["moderator_name", "target_name", "moderator_peer_id", "target_peer_id"]
    list_select_related = ["room"]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: ModerationAction | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: ModerationAction | None = None
    ) -> bool:
        return False
