"""Schedule the accepted 1:1 meetings of a matchmaking meeting, or run the scheduler on a JSON file.

    manage.py schedule_meetings EVENT_ID
    manage.py schedule_meetings --input problem.json --output schedule.json

File input:  {"slots": 16, "tables": 500, "participants": [{"id": "p1", "unavailable": [0, 3]}],
              "meetings": [["p1", "p2"], ...], "pinned": [{"a": "p1", "b": "p2", "slot": 4, "table": 17}]}
File output: {"meetings": [{"a": "p1", "b": "p2", "slot": 4, "table": 17}], "unplaced": [["p5", "p9"]]}
Slots and tables are numbered from 0; "pinned" is optional.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from qiaoliang.core.exceptions import DomainError
from qiaoliang.events import services
from qiaoliang.events.models import Event
from qiaoliang.events.scheduling import ScheduleError, dump_schedule, load_problem, schedule, upper_bound, validate


class Command(BaseCommand):
    help = "Place a matchmaking meeting's accepted 1:1 meetings into slots and tables (or a JSON problem's)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("event_id", nargs="?", type=int, help="the event whose accepted meetings to schedule")
        parser.add_argument("--input", help="a JSON problem file ('-' for standard input)")
        parser.add_argument("--output", help="where to write the JSON schedule ('-' or absent: standard output)")
        parser.add_argument("--seed", type=int, default=0, help="random seed (the same seed gives the same schedule)")
        parser.add_argument("--time-limit", type=float, default=8.0, help="seconds the search may take (8)")

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["event_id"]) == bool(options["input"]):
            raise CommandError(_("Give either an event id or --input FILE.json."))
        if options["input"]:
            self.from_file(options)
        else:
            self.for_event(options)

    def for_event(self, options: dict[str, Any]) -> None:
        event = Event.objects.filter(pk=options["event_id"]).first()
        if event is None:
            raise CommandError(_("No event has the id %(id)s.") % {"id": options["event_id"]})
        started = time.perf_counter()
        try:
            result = services.schedule_event(
                actor=None, event=event, seed=options["seed"], time_limit=options["time_limit"]
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            _("%(placed)d of %(total)d meetings placed (at most %(bound)d can be) in %(seconds).1f s.")
            % {
                "placed": result.placed,
                "total": result.total,
                "bound": result.bound,
                "seconds": time.perf_counter() - started,
            }
        )

    def from_file(self, options: dict[str, Any]) -> None:
        source = options["input"]
        try:
            text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
            data = json.loads(text)
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(_("The input file could not be read: %(error)s") % {"error": exc}) from exc
        except json.JSONDecodeError as exc:
            raise CommandError(_("The input is not JSON: %(error)s") % {"error": exc}) from exc
        if not isinstance(data, dict):
            raise CommandError(_("The input must be a JSON object with slots, tables, participants and meetings."))
        started = time.perf_counter()
        try:
            problem = load_problem(data)
            result = schedule(problem, seed=options["seed"], time_limit=options["time_limit"])
            bound = upper_bound(problem)
        except ScheduleError as exc:
            raise CommandError(
                _("The problem cannot be scheduled as given: %(errors)s") % {"errors": "; ".join(exc.errors[:10])}
            ) from exc
        problems = validate(problem, result)
        if problems:
            raise CommandError("; ".join(problems[:10]))
        output = json.dumps(dump_schedule(result), ensure_ascii=False)
        target = options["output"]
        if target and target != "-":
            Path(target).write_text(output + "\n", encoding="utf-8")
        else:
            self.stdout.write(output)
        self.stderr.write(
            _("%(placed)d of %(total)d meetings placed (at most %(bound)d can be) in %(seconds).1f s.")
            % {
                "placed": len(result.placed),
                "total": len(result.placed) + len(result.unplaced),
                "bound": bound,
                "seconds": time.perf_counter() - started,
            }
        )
