from django.urls import path

from rooms import views

urlpatterns = [
    path("", views.home, name="home"),
    path("room/<str:name>", views.room, name="room"),
    path("healthz", views.healthz, name="healthz"),
]
