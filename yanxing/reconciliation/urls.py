from django.urls import path

from . import views

app_name = "reconciliation"
urlpatterns = [
    path("", views.RunListView.as_view(), name="list"),
    path("new/", views.RunCreateView.as_view(), name="create"),
    path("<int:pk>/", views.RunDetailView.as_view(), name="detail"),
    path("<int:pk>/status/", views.RunStatusView.as_view(), name="status"),
    path("<int:pk>/export.xlsx", views.RunExportView.as_view(), name="export"),
    path("<int:pk>/do/<str:verb>/", views.RunActionView.as_view(), name="action"),
    path("pairs/<int:pk>/do/<str:verb>/", views.PairActionView.as_view(), name="pair_action"),
    path("merges/<int:pk>/do/<str:verb>/", views.MergeActionView.as_view(), name="merge_action"),
    path(
        "conflicts/<int:pk>/do/<str:verb>/",
        views.ConflictActionView.as_view(),
        name="conflict_action",
    ),
]
