from django.urls import path

from qiaoliang.exchange import views

app_name = "exchange"
urlpatterns = [
    path("", views.board, name="board"),
    path("mine/", views.my_listings, name="mine"),
    path("new/", views.listing_create, name="listing_create"),
    path("review/", views.review_queue, name="review"),
    path("listings/<int:pk>/", views.listing_detail, name="listing"),
    path("listings/<int:pk>/edit/", views.listing_edit, name="listing_edit"),
    path("listings/<int:pk>/status/", views.listing_status, name="listing_status"),
    path("listings/<int:pk>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("listings/<int:pk>/matches/", views.listing_matches, name="listing_matches"),
    path("matches/", views.match_list, name="matches"),
    path("matches/<int:pk>/", views.match_detail, name="match"),
    path("matches/<int:pk>/status/", views.match_status, name="match_status"),
    path("introduce/", views.introduce, name="introduce"),
    path("emergency/", views.emergency_boards, name="emergency"),
    path("emergency/<int:pk>/", views.emergency_board, name="emergency_board"),
    path("notifications/", views.notifications, name="notifications"),
    path("stats/", views.stats, name="stats"),
]
