"""ASGI entry point: Django for HTTP, the Phoenix-protocol socket for websockets."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "videoroom_project.settings")
# Django must be set up before anything imports models (consumers do).
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from rooms.web.origins import OriginValidator  # noqa: E402
from rooms.web.routing import websocket_urlpatterns  # noqa: E402

router = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # The Origin check first: a refused handshake costs no session lookup. The
        # session cookie then gives the socket its Django user (scope["user"]), which
        # the users join policy asks about (rooms.access).
        "websocket": OriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# Operations (rooms/metrics): open websockets are counted around everything, and this
# process serves /metrics on its own port (VIDEOROOM_METRICS_PORT) from a thread, so a
# scrape never waits for this loop.
from rooms.metrics.setup import start_web_metrics  # noqa: E402
from rooms.metrics.web import CountSockets  # noqa: E402

application = CountSockets(router)
start_web_metrics()
