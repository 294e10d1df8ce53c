from django.urls import path

from qiaoliang.policies import views, views_facts, views_items

app_name = "policies"

urlpatterns = [
    path("", views.policy_list, name="list"),
    path("new/", views.create, name="create"),
    path("import/", views.import_document, name="import"),
    path("faq/", views.faq, name="faq"),
    path("questions/", views.question_inbox, name="questions"),
    path("questions/<int:pk>/answer/", views.answer, name="answer"),
    path("statistics/", views.statistics, name="statistics"),
    path("checkup/", views_items.checkup, name="checkup"),
    path("cases/", views_items.cases, name="cases"),
    path("cases/<int:pk>/<str:action>/", views_items.case_act, name="case_act"),
    path("facts/", views_facts.facts, name="facts"),
    path("facts/save/", views_facts.fact_save, name="fact_save"),
    path("facts/fact/<int:pk>/delete/", views_facts.fact_delete, name="fact_delete"),
    path("facts/<str:kind>/<int:pk>/file/", views_facts.evidence, name="evidence"),
    path("facts/import/", views_facts.import_facts, name="import_facts"),
    path("facts/import/template.xlsx", views_facts.import_template, name="import_template"),
    path("review/", views_facts.review_queue, name="review"),
    path("review/<str:kind>/<int:pk>/", views_facts.review, name="review_act"),
    path("items/<int:pk>/", views_items.item, name="item"),
    path("items/<int:pk>/edit/", views_items.item_edit, name="item_edit"),
    path("items/<int:pk>/rule/", views_items.rule_save, name="rule_save"),
    path("items/<int:pk>/rule/build/", views_items.rule_build, name="rule_build"),
    path("items/<int:pk>/cases/", views_items.case_add, name="case_add"),
    path("items/<int:pk>/recompute/", views_items.recompute, name="recompute"),
    path("clauses/<int:pk>/propose/", views_items.propose, name="propose"),
    path("clauses/<int:pk>/propose/to/<int:item_pk>/", views_items.propose_to_item, name="propose_to_item"),
    path("attachments/<int:pk>/", views.attachment, name="attachment"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/items/new/", views_items.item_new, name="item_new"),
    path("<int:pk>/ask/", views.ask, name="ask"),
    path("<int:pk>/<str:action>/", views.act, name="act"),
]
