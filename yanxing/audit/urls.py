from django.urls import path

from . import views

app_name = "audit"
urlpatterns = [
    path("", views.EventListView.as_view(), name="events"),
    path("access/", views.AccessLogListView.as_view(), name="access"),
    path("changes/", views.ChangeListView.as_view(), name="changes"),
]
