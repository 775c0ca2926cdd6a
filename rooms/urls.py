from django.urls import path

from rooms import views
from rooms.metrics import health

urlpatterns = [
    path("", views.home, name="home"),
    path("room/<str:name>", views.room, name="room"),
    path("healthz", health.healthz, name="healthz"),
]
