"""Who is told about what happens to an organisation's or an enterprise's work (the people it concerns)."""

from __future__ import annotations

from typing import Any

from qiaoliang.accounts.models import Role, RoleAssignment
from qiaoliang.orgs.models import Organization


def enterprise_contacts(enterprise_ids: set[int] | list[int]) -> list[Any]:
    """Return the active users who are contacts of these enterprises."""
    if not enterprise_ids:
        return []
    assignments = RoleAssignment.objects.filter(
        role=Role.ENTERPRISE_CONTACT, enterprise_id__in=list(enterprise_ids), user__is_active=True
    ).select_related("user")
    return list({assignment.user_id: assignment.user for assignment in assignments}.values())


def organization_managers(organization: Organization) -> list[Any]:
    """Return the people who act for an organisation: its secretaries, else the nearest ancestor's, else staff.

    Staff of the federation always see the queues on their home page; they are told directly only when no
    secretary stands closer to the organisation.
    """
    ancestors = organization.ancestor_ids()
    secretaries = RoleAssignment.objects.filter(
        role=Role.CHAMBER_SECRETARY, organization_id__in=ancestors, user__is_active=True
    ).select_related("user", "organization")
    by_depth: dict[int, list[Any]] = {}
    for assignment in secretaries:
        if assignment.organization is not None:
            by_depth.setdefault(assignment.organization.depth, []).append(assignment.user)
    if by_depth:
        return by_depth[max(by_depth)]
    staff = RoleAssignment.objects.filter(
        role=Role.FEDERATION_STAFF, organization_id__in=ancestors, user__is_active=True
    ).select_related("user")
    return list({assignment.user_id: assignment.user for assignment in staff}.values())


def zone_convenors(zone_ids: set[int]) -> list[Any]:
    """Return the active users who convene these zones."""
    assignments = RoleAssignment.objects.filter(
        role=Role.ZONE_CONVENOR, zone_id__in=list(zone_ids), user__is_active=True
    ).select_related("user")
    return list({assignment.user_id: assignment.user for assignment in assignments}.values())


def department_liaisons(department_ids: set[int] | list[int]) -> list[Any]:
    """Return the active users who are liaison officers of these departments."""
    if not department_ids:
        return []
    assignments = RoleAssignment.objects.filter(
        role=Role.DEPARTMENT_LIAISON, department_id__in=list(department_ids), user__is_active=True
    ).select_related("user")
    return list({assignment.user_id: assignment.user for assignment in assignments}.values())
