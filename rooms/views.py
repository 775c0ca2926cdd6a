"""HTTP pages: the home page and a room page (``/healthz`` is rooms.metrics.health)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from rooms.names import is_valid_room_name


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "rooms/home.html")


def room(request: HttpRequest, name: str) -> HttpResponse:
    if not is_valid_room_name(name):
        raise Http404("invalid room name")
    return render(request, "rooms/room.html", {"room_name": name})
