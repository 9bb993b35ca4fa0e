"""`pilotscale templates check`: render every template with sample data, list problems."""

from __future__ import annotations

from pilotscale.notifications.catalog import EVENTS, PARTS, SUBJECT, template_name
from pilotscale.notifications.render import Renderer, TemplateProblem
from pilotscale.notifications.samples import SAMPLES, without_links


def check_templates(renderer: Renderer) -> list[TemplateProblem]:
    """Every problem in the templates `renderer` would use, user overrides included."""
    problems = _unknown_files(renderer)
    seen: set[str] = set()
    for event in EVENTS:
        # With links, and without them (no web address or key configured), to an
        # operator and to anyone else: each takes other branches of a template.
        variants = (SAMPLES[event], without_links(event), without_links(event, operator=True))
        for context in variants:
            for part in PARTS:
                try:
                    if part == SUBJECT:
                        renderer.subject(event, context)
                    else:
                        renderer.render(template_name(event, part), context)
                except TemplateProblem as problem:
                    if str(problem) not in seen:  # the same line, failing in two variants
                        seen.add(str(problem))
                        problems.append(problem)
    return problems


def _unknown_files(renderer: Renderer) -> list[TemplateProblem]:
    """A misnamed override (say `gate_hled/`) would silently never be used: say so."""
    root = renderer.templates_dir
    if root is None:
        return []
    if not root.is_dir():
        return [TemplateProblem(str(root), None, "the templates directory does not exist")]
    problems = []
    for entry in sorted(root.iterdir()):
        if entry.name.startswith((".", "_")):
            continue  # hidden files, and shared layouts and partials
        if not entry.is_dir():
            problems.append(
                TemplateProblem(str(entry), None, "not used: templates go in one folder per event")
            )
        elif entry.name not in EVENTS:
            problems.append(
                TemplateProblem(
                    str(entry),
                    None,
                    f"unknown event folder '{entry.name}'; known: {', '.join(EVENTS)}",
                )
            )
        else:
            for file in sorted(entry.iterdir()):
                if file.name not in PARTS and not file.name.startswith("."):
                    problems.append(
                        TemplateProblem(
                            str(file),
                            None,
                            f"not used: an event's templates are {', '.join(PARTS)}",
                        )
                    )
    return problems
