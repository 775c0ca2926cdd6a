"""HTTP pages: the home page, a room page and a health check."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from rooms.names import is_valid_room_name


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "rooms/home.html")


def room(request: HttpRequest, name: str) -> HttpResponse:
    if not is_valid_room_name(name):
        raise Http404("invalid room name")
    return render(request, "rooms/room.html", {"room_name": name})


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})
