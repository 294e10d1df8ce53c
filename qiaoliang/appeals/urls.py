from django.urls import path

from qiaoliang.appeals import views, views_calendar, views_evaluations, views_reports, views_visits

app_name = "appeals"

urlpatterns = [
    path("", views.appeal_list, name="list"),
    path("new/", views.submit, name="submit"),
    path("record/", views.record, name="record"),
    path("import/", views.import_sheet, name="import"),
    path("statistics/", views.statistics, name="statistics"),
    path("similar/", views.similar, name="similar"),
    path("common/", views_reports.common_problems, name="common"),
    path("calendar/", views_calendar.calendar, name="calendar"),
    path("evaluations/", views_evaluations.evaluation_list, name="evaluations"),
    path("evaluations/new/", views_evaluations.evaluation_new, name="evaluation_new"),
    path("evaluations/<int:pk>/", views_evaluations.evaluation_detail, name="evaluation"),
    path("evaluations/<int:pk>/answer/", views_evaluations.evaluation_answer, name="evaluation_answer"),
    path("evaluations/<int:pk>/edit/", views_evaluations.evaluation_edit, name="evaluation_edit"),
    path("evaluations/<int:pk>/results/", views_evaluations.evaluation_results, name="evaluation_results"),
    path("calendar/delete/", views_calendar.calendar_delete, name="calendar_delete"),
    path("visits/", views_visits.visit_list, name="visits"),
    path("visits/<int:pk>/", views_visits.visit_detail, name="visit"),
    path("visits/<int:pk>/record/", views_visits.visit_record, name="visit_record"),
    path("reports/<int:pk>/", views_reports.report, name="report"),
    path("reports/<int:pk>/word/", views_reports.report_docx, name="report_docx"),
    path("reports/<int:pk>/<str:action>/", views_reports.report_act, name="report_act"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/<str:action>/", views.act, name="act"),
    path("<int:pk>/files/<int:attachment_pk>/", views.attachment, name="attachment"),
]
