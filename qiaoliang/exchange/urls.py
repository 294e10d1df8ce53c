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
    path("listings/<int:pk>/attachments/<int:attachment_id>/", views.attachment_download, name="attachment"),
    path("listings/<int:pk>/matches/", views.listing_matches, name="listing_matches"),
    path("matches/", views.match_list, name="matches"),
    path("matches/<int:pk>/", views.match_detail, name="match"),
    path("matches/<int:pk>/status/", views.match_status, name="match_status"),
    path("matches/<int:pk>/messages/", views.match_message, name="match_message"),
    path("matches/<int:pk>/talk/", views.match_talk, name="match_talk"),
    path("matches/<int:pk>/deal/", views.match_propose, name="match_propose"),
    path("matches/<int:pk>/deal/confirm/", views.match_confirm, name="match_confirm"),
    path("matches/<int:pk>/deal/withdraw/", views.match_withdraw, name="match_withdraw"),
    path("matches/<int:pk>/decline/", views.match_decline, name="match_decline"),
    path("introduce/", views.introduce, name="introduce"),
    path("emergency/", views.emergency_boards, name="emergency"),
    path("emergency/<int:pk>/", views.emergency_board, name="emergency_board"),
    path("stats/", views.stats, name="stats"),
]
