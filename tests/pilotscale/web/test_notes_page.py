"""The department page lists the lessons learned (`pilotscale note`), escaped."""

from __future__ import annotations

from datetime import timedelta

from pilotscale.engine.acting import cli_actor
from pilotscale.engine.notes import record_note
from tests.pilotscale.web.conftest import NOW, Web


def test_the_department_page_shows_lessons_learned(web: Web) -> None:
    empty = web.client.get("/d/sales")
    assert 'id="notes"' in empty.text
    assert "No lesson noted yet" in empty.text

    record_note(
        engine=web.engine,
        department="sales",
        actor=cli_actor("raul.vega"),
        text="Demo <script>x</script> with real quotes, not slides",
        now=NOW - timedelta(hours=1),
    )
    page = web.client.get("/d/sales")

    assert page.status_code == 200
    assert 'id="notes-table"' in page.text
    assert "Demo &lt;script&gt;x&lt;/script&gt; with real quotes, not slides" in page.text
    assert "<script>x</script>" not in page.text
    assert "Raúl Vega" in page.text
