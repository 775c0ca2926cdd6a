"""HTTP pages: the home page and a room page (``/healthz`` is rooms.metrics.health)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from rooms.names import is_valid_room_name


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "rooms/home.html")


def room(request: HttpRequest, name: str) -> HttpResponse:
    return render_room(request, name)


def render_room(request: HttpRequest, name: str, *, token: str = "") -> HttpResponse:
    """The room page; with ``token`` (rooms.tokens.issue), the page joins with it.

    For host applications embedding a room in their own views (README, "Embed a room"):
    the token goes into the page as ``data-join-token``, not into its URL.
    """
    if not is_valid_room_name(name):
        raise Http404("invalid room name")
    return render(request, "rooms/room.html", {"room_name": name, "join_token": token})
