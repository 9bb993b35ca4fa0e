"""Write examples/acme-roster.csv: ACME's HR export, as the demo imports it.

Deterministic (a fixed seed), so the file only changes when this script does. Every
department gets its plan headcount; the plan's own people keep their ids and emails
(the import matches them), the rest are made-up employees with a manager each.

    .venv/bin/python scripts/make_example_roster.py
"""

from __future__ import annotations

import csv
import random
import unicodedata
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "examples" / "acme-ai-assistant.yaml"
OUT = ROOT / "examples" / "acme-roster.csv"
FIRST = [
    "Ana",
    "Lucía",
    "Pablo",
    "Elena",
    "Jorge",
    "Marta",
    "Sergio",
    "Laura",
    "Raúl",
    "Carmen",
    "Álvaro",
    "Paula",
    "Iván",
    "Inés",
    "Rubén",
    "Sara",
    "Adrián",
    "Noelia",
    "Óscar",
    "Beatriz",
    "Mario",
    "Lidia",
    "Andrés",
    "Silvia",
    "Tomás",
    "Julia",
    "Víctor",
    "Irene",
    "Héctor",
    "Alicia",
    "Gonzalo",
    "Patricia",
    "Diego",
    "Rocío",
    "Samuel",
    "Teresa",
    "Marcos",
    "Cristina",
]
LAST = [
    "García",
    "Fernández",
    "González",
    "Rodríguez",
    "López",
    "Martínez",
    "Sánchez",
    "Pérez",
    "Gómez",
    "Martín",
    "Jiménez",
    "Ruiz",
    "Hernández",
    "Díaz",
    "Moreno",
    "Muñoz",
    "Álvarez",
    "Romero",
    "Alonso",
    "Gutiérrez",
    "Navarro",
    "Torres",
    "Domínguez",
    "Vázquez",
    "Ramos",
    "Gil",
    "Ramírez",
    "Serrano",
    "Blanco",
    "Molina",
    "Morales",
    "Suárez",
    "Ortega",
    "Delgado",
]
# Of each department: a tenth power users, most casual users, the rest not trainees.
SEGMENTS = (("power", 0.1), ("casual", 0.65), ("none", 0.25))


def ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.lower().replace(" ", "")


def main() -> None:
    plan = yaml.safe_load(PLAN.read_text(encoding="utf-8"))
    rng = random.Random(20261204)  # noqa: S311 - made-up example data, not a secret
    known = [p for p in plan["people"] if p.get("department")]
    rows: list[dict[str, str]] = []
    used: set[str] = {p["email"] for p in plan["people"]}
    number = 1000
    for department in plan["departments"]:
        name, headcount = department["name"], department["headcount"]
        mine = [p for p in known if p["department"] == name]
        manager = department["sponsor"]
        for person in mine:
            rows.append(
                {"id": person["id"], "name": person["name"], "email": person["email"],
                 "department": name, "segment": person.get("segment", "casual"),
                 "roles": ";".join(person.get("roles", [])), "manager": manager}
            )  # fmt: skip
        weights = [w for _, w in SEGMENTS]
        for _ in range(headcount - len(mine)):
            number += 1
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{ascii_slug(first)}.{ascii_slug(last)}{number}@acme.example"
            used.add(email)
            segment = rng.choices([s for s, _ in SEGMENTS], weights)[0]
            rows.append(
                {"id": f"e{number}", "name": f"{first} {last}", "email": email,
                 "department": name, "segment": segment, "roles": "", "manager": manager}
            )  # fmt: skip
    with OUT.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"{OUT.relative_to(ROOT)}: {len(rows)} people")


if __name__ == "__main__":
    main()
