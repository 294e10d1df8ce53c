from django.urls import path

from qiaoliang.orgs import views, views_applications, views_roster

app_name = "orgs"
urlpatterns = [
    path("", views.organization_tree, name="tree"),
    path("<int:pk>/", views.organization_detail, name="organization"),
    path("<int:pk>/edit/", views.organization_edit, name="organization_edit"),
    path("zones/", views.zone_list, name="zones"),
    path("zones/<int:pk>/", views.zone_detail, name="zone"),
    path("members/", views.directory, name="directory"),
    path("members/new/", views.enterprise_create, name="enterprise_create"),
    path("members/export/", views_roster.export_directory, name="directory_export"),
    path("members/<int:pk>/", views.enterprise_detail, name="enterprise"),
    path("members/<int:pk>/edit/", views.enterprise_edit, name="enterprise_edit"),
    path("members/<int:pk>/invite/", views.enterprise_invite, name="enterprise_invite"),
    path("memberships/<int:pk>/status/", views.membership_status, name="membership_status"),
    path("people/", views.people_list, name="people"),
    path("people/<int:pk>/", views.person_detail, name="person"),
    path("roster/template/", views_roster.download_template, name="roster_template"),
    path("roster/import/", views_roster.import_upload, name="roster_import"),
    path("roster/import/<str:token>/", views_roster.import_preview, name="roster_import_preview"),
    path("my-enterprise/", views_applications.my_enterprise, name="my_enterprise"),
    path("apply/", views_applications.apply, name="apply"),
    path("applications/", views_applications.applications, name="applications"),
    path("applications/<int:pk>/", views_applications.application_detail, name="application"),
    path("applications/<int:pk>/decide/", views_applications.application_decide, name="application_decide"),
    path("applications/<int:pk>/licence/", views_applications.application_licence, name="application_licence"),
    path("changes/<int:pk>/", views_applications.change_request, name="change_request"),
]
