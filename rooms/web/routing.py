from django.urls import path

from rooms.web.sockets import UserSocket

websocket_urlpatterns = [
    # The phoenix client appends "/websocket" to the socket path it is given.
    path("socket/websocket", UserSocket.as_asgi()),
]
