from django.urls import path

from . import views

app_name = "orgs"
urlpatterns = [
    path("", views.OrgTreeView.as_view(), name="tree"),
    path("<int:pk>/", views.OrgDetailView.as_view(), name="detail"),
    path("<int:parent_pk>/new/", views.OrgCreateView.as_view(), name="create"),
    path("<int:pk>/edit/", views.OrgEditView.as_view(), name="edit"),
    path("<int:pk>/do/<str:verb>/", views.OrgActionView.as_view(), name="action"),
]
