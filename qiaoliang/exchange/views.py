"""PLACEHOLDER: being written by a helper; every view answers 404 until then."""

from django.http import Http404


def board(request, *args, **kwargs):
    raise Http404


def my_listings(request, *args, **kwargs):
    raise Http404


def listing_create(request, *args, **kwargs):
    raise Http404


def review_queue(request, *args, **kwargs):
    raise Http404


def listing_detail(request, *args, **kwargs):
    raise Http404


def listing_edit(request, *args, **kwargs):
    raise Http404


def listing_status(request, *args, **kwargs):
    raise Http404


def attachment_upload(request, *args, **kwargs):
    raise Http404


def listing_matches(request, *args, **kwargs):
    raise Http404


def match_list(request, *args, **kwargs):
    raise Http404


def match_detail(request, *args, **kwargs):
    raise Http404


def match_status(request, *args, **kwargs):
    raise Http404


def introduce(request, *args, **kwargs):
    raise Http404


def emergency_boards(request, *args, **kwargs):
    raise Http404


def emergency_board(request, *args, **kwargs):
    raise Http404


def notifications(request, *args, **kwargs):
    raise Http404


def stats(request, *args, **kwargs):
    raise Http404
