from django.urls import path

from . import views

app_name = "ledgers"
urlpatterns = [
    path("", views.BatchListView.as_view(), name="list"),
    path("upload/", views.UploadView.as_view(), name="upload"),
    path("template/<str:kind>.xlsx", views.TemplateView.as_view(), name="template"),
    path("<int:pk>/", views.BatchDetailView.as_view(), name="detail"),
    path("<int:pk>/status/", views.BatchStatusView.as_view(), name="status"),
    path("<int:pk>/do/<str:verb>/", views.BatchActionView.as_view(), name="action"),
    path("<int:pk>/errors.xlsx", views.ErrorWorkbookView.as_view(), name="errors"),
]
