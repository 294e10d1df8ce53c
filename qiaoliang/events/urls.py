from django.urls import path

from qiaoliang.events import views, views_checkin, views_matchmaking, views_registration

app_name = "events"
urlpatterns = [
    path("", views.event_list, name="list"),
    path("public/", views.public_list, name="public"),
    path("calendar/", views.event_calendar, name="calendar"),
    path("calendar.ics", views.calendar_ics, name="calendar_ics"),
    path("attendance/", views.totals, name="totals"),
    path("new/", views.event_create, name="create"),
    path("tickets/", views_registration.my_tickets, name="tickets"),
    path("tickets/<str:ticket>/", views_registration.ticket, name="ticket"),
    path("tickets/<str:ticket>/cancel/", views_registration.ticket_cancel, name="ticket_cancel"),
    path("tickets/<str:ticket>/feedback/", views_registration.feedback, name="feedback"),
    path("<int:pk>/", views.event_detail, name="detail"),
    path("<int:pk>/event.ics", views.event_ics, name="ics"),
    path("<int:pk>/closing/", views.closing, name="closing"),
    path("<int:pk>/closing/edit/", views.closing_edit, name="closing_edit"),
    path("<int:pk>/files/", views.files_edit, name="files_edit"),
    path("<int:pk>/files/<int:file_id>/", views.event_file, name="file"),
    path("<int:pk>/copy/", views.event_copy, name="copy"),
    path("<int:pk>/edit/", views.event_edit, name="edit"),
    path("<int:pk>/status/", views.event_status, name="status"),
    path("<int:pk>/agenda/", views.agenda_edit, name="agenda_edit"),
    path("<int:pk>/register/", views_registration.register, name="register"),
    path("<int:pk>/register/code/", views_registration.send_code, name="send_code"),
    path("<int:pk>/register/colleague/", views_registration.register_colleague, name="register_colleague"),
    path("<int:pk>/registrations/", views_registration.registrations, name="registrations"),
    path(
        "<int:pk>/registrations/<int:registration_id>/cancel/",
        views_registration.registration_cancel,
        name="registration_cancel",
    ),
    path("<int:pk>/checkin/", views_checkin.checkin, name="checkin"),
    path("<int:pk>/checkin/list/", views_checkin.checkin_list, name="checkin_list"),
    path("<int:pk>/attendance/", views_checkin.attendance, name="attendance"),
    path("<int:pk>/attendance/<int:import_id>/", views_checkin.attendance_map, name="attendance_map"),
    path("<int:pk>/attendance/<int:import_id>/delete/", views_checkin.attendance_delete, name="attendance_delete"),
    path("<int:pk>/matchmaking/", views_matchmaking.board, name="matchmaking"),
    path("<int:pk>/matchmaking/join/", views_matchmaking.join, name="join"),
    path("<int:pk>/matchmaking/pitches/", views_matchmaking.pitches, name="pitches"),
    path(
        "<int:pk>/matchmaking/participants/<int:participant_id>/",
        views_matchmaking.participant_edit,
        name="participant",
    ),
    path("<int:pk>/matchmaking/request/", views_matchmaking.request_meeting, name="request_meeting"),
    path("<int:pk>/matchmaking/requests/", views_matchmaking.requests, name="requests"),
    path(
        "<int:pk>/matchmaking/requests/<int:request_id>/answer/",
        views_matchmaking.request_answer,
        name="request_answer",
    ),
    path(
        "<int:pk>/matchmaking/requests/<int:request_id>/withdraw/",
        views_matchmaking.request_withdraw,
        name="request_withdraw",
    ),
    path("<int:pk>/matchmaking/schedule/", views_matchmaking.schedule, name="schedule"),
    path("<int:pk>/matchmaking/schedule/run/", views_matchmaking.schedule_run, name="schedule_run"),
    path(
        "<int:pk>/matchmaking/meetings/<int:meeting_id>/place/", views_matchmaking.meeting_place, name="meeting_place"
    ),
    path("<int:pk>/matchmaking/meetings/<int:meeting_id>/outcome/", views_matchmaking.outcome, name="outcome"),
    path("<int:pk>/matchmaking/agenda/<int:participant_id>/", views_matchmaking.agenda, name="agenda"),
    path("<int:pk>/matchmaking/agenda/<int:participant_id>.ics", views_matchmaking.agenda_ics, name="agenda_ics"),
]
