from django.urls import path

from qiaoliang.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/settings/", views.notification_preferences, name="notification_preferences"),
    path("codes/<str:kind>/", views.code_options, name="code_options"),
]
