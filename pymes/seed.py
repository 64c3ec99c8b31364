"""Deterministic data sets for benchmarks and demos (``flask --app wsgi pymes seed``).

The same ``--seed`` gives the same rows. Clients are generated with their sales
dates first, so the cached figures and the tier are computed in Python before the
bulk insert instead of one query per client afterwards."""
from __future__ import annotations

import random
import time
from datetime import UTC, date, timedelta

from sqlalchemy import func, insert, select

from .accounts.models import Business, User
from .clients import loyalty
from .clients.models import Client
from .db import utcnow
from .extensions import db
from .feedback.models import FeedbackLink, FeedbackResponse
from .sales.models import Sale
from .security import hash_password
from .tenancy import bound
from .territories.models import Portfolio, PortfolioSeller, Territory, TerritorySeller
from .visits.models import Activity

FIRST = ["Ana", "Luis", "Carmen", "José", "María", "Pedro", "Sofía", "Diego", "Valentina", "Jorge", "Camila",
         "Andrés", "Isabel", "Tomás", "Fernanda", "Ricardo", "Paula", "Matías", "Daniela", "Felipe"]
LAST = ["González", "Muñoz", "Rojas", "Díaz", "Pérez", "Soto", "Contreras", "Silva", "Martínez", "Sepúlveda",
        "Morales", "Rodríguez", "López", "Fuentes", "Hernández", "Torres", "Araya", "Flores", "Espinoza", "Valenzuela"]
PRODUCTS = [("Taladro percutor", "Herramientas"), ("Pintura látex 4 L", "Pinturas"), ("Set de llaves", "Herramientas"),
            ("Cerámica 30x30 (caja)", "Terminaciones"), ("Grifería de cocina", "Gasfitería"),
            ("Mantención anual", "Servicios")]
TERRITORIES = ["Zona Norte", "Zona Centro", "Zona Sur de Santiago", "V Región"]
PORTFOLIOS = ["Constructoras", "Hogares", "Comercios"]
PASSWORD = "seed-password-2026"
CHUNK = 5000
# the data sets of performance.md: (businesses, clients per business, sales per client)
SCALES = {"small": (1, 200, 3.0), "medium": (2, 10_000, 2.5), "scale": (200, 5_000, 1.8)}


def seed(businesses: int = 1, clients: int = 100, sales_per_client: float = 3.0, seed_number: int = 42,
         today: date | None = None, echo=print) -> dict:
    """Create ``businesses`` businesses with ``clients`` clients each. Returns counts and seconds."""
    started = time.perf_counter()
    today = today or date.today()
    rnd = random.Random(seed_number)
    password = hash_password(PASSWORD)
    counts = {"businesses": 0, "clients": 0, "sales": 0, "activities": 0, "answers": 0}
    existing = db.session.execute(select(Business.id)).scalars().all()
    offset = len(existing)
    for b in range(businesses):
        n = offset + b + 1
        business = Business(name=f"Negocio de prueba {n}", country="CL", currency="CLP", timezone="America/Santiago",
                            language="es")
        db.session.add(business)
        db.session.flush()
        with bound(business.id):
            team = [User(email=f"seed{n}-{role}{i}@example.com", name=f"{rnd.choice(FIRST)} {rnd.choice(LAST)}",
                         password_hash=password, role=role, language="es", email_confirmed_at=utcnow())
                    for i, role in enumerate(["owner", "manager", "seller", "seller", "seller", "service"])]
            db.session.add_all(team)
            db.session.flush()
            sellers = [u for u in team if u.role in ("seller", "manager")]
            territories = [Territory(name=t) for t in TERRITORIES]
            portfolios = [Portfolio(name=p) for p in PORTFOLIOS]
            db.session.add_all(territories + portfolios)
            db.session.flush()
            db.session.add_all([TerritorySeller(territory_id=t.id, user_id=sellers[i % len(sellers)].id)
                                for i, t in enumerate(territories)])
            db.session.add_all([PortfolioSeller(portfolio_id=p.id, user_id=sellers[i % len(sellers)].id)
                                for i, p in enumerate(portfolios)])
            db.session.flush()
            made = _clients(business, clients, sales_per_client, rnd, today, sellers, territories, portfolios)
            db.session.commit()
        counts["businesses"] += 1
        for key, value in zip(("clients", "sales", "activities", "answers"), made, strict=False):
            counts[key] += value
        echo(f"business {n}: {made[0]} clients, {made[1]} sales, {made[2]} visits and calls, {made[3]} answers")
    counts["seconds"] = round(time.perf_counter() - started, 2)
    return counts


def _clients(business, total, per_client, rnd, today, sellers, territories, portfolios) -> tuple[int, int, int, int]:
    rules = loyalty.TierRules()
    made_clients = made_sales = made_activities = made_answers = 0
    for start in range(0, total, CHUNK):
        rows, sale_plans = [], []
        for i in range(start, min(start + CHUNK, total)):
            count = max(0, int(rnd.expovariate(1 / per_client))) if per_client else 0
            dates = sorted(today - timedelta(days=rnd.randint(0, 900)) for _ in range(count))
            amounts = [rnd.randint(5, 500) * 1000 for _ in dates]
            result = loyalty.compute_tier(dates, today, rules=rules)
            window = today - timedelta(days=365)
            name = f"{rnd.choice(FIRST)} {rnd.choice(LAST)} {rnd.choice(LAST)}"
            seller = rnd.choice(sellers)
            rows.append({
                "tenant_id": business.id, "name": name, "kind": "client" if dates else "prospect",
                "company": rnd.choice(["", "", f"Comercial {rnd.choice(LAST)}"]), "tax_id": "",
                "email": f"cliente{i}.{business.id}@example.com",
                "phone": f"+5692{rnd.randint(1000000, 9999999)}", "whatsapp": None, "address": "",
                "territory_id": rnd.choice(territories).id, "portfolio_id": rnd.choice(portfolios).id,
                "seller_id": seller.id, "preferred_channel": rnd.choice(["whatsapp", "phone", "email", "visit"]),
                "preferred_time": rnd.choice(["morning", "afternoon", "any"]), "notes": "",
                "is_key": rnd.random() < 0.03, "source": rnd.choice(["walk_in", "referral", "web", "other"]),
                "tier": result.tier, "computed_tier": result.tier, "tier_override_reason": "",
                "sales_count": len(dates), "last_sale_on": dates[-1] if dates else None,
                "revenue_12m": sum(a for d, a in zip(dates, amounts, strict=False) if d > window),
                "created_at": utcnow(), "updated_at": utcnow(),
            })
            sale_plans.append((seller.id, dates, amounts))
        ids = _insert(Client, rows)
        sales = []
        for client_id, (seller_id, dates, amounts) in zip(ids, sale_plans, strict=False):
            for sold_on, amount in zip(dates, amounts, strict=False):
                product, line = rnd.choice(PRODUCTS)
                sales.append({"tenant_id": business.id, "client_id": client_id, "seller_id": seller_id,
                              "sold_on": sold_on, "description": product, "product_line": line, "amount": amount,
                              "margin": amount * rnd.randint(15, 40) // 100, "delivery_on": sold_on,
                              "created_at": utcnow(), "updated_at": utcnow()})
        sale_ids = _insert(Sale, sales)
        activities, links, answers = _follow_up(business, sales, sale_ids, rnd, today)
        for s in range(0, len(activities), CHUNK):
            db.session.execute(insert(Activity), activities[s:s + CHUNK])
        link_ids = _insert(FeedbackLink, links)
        for answer, link_id in zip(answers, link_ids, strict=False):
            answer["link_id"] = link_id
        for s in range(0, len(answers), CHUNK):
            db.session.execute(insert(FeedbackResponse), answers[s:s + CHUNK])
        made_clients += len(rows)
        made_sales += len(sales)
        made_activities += len(activities)
        made_answers += len(answers)
    return made_clients, made_sales, made_activities, made_answers


def _insert(model, rows: list[dict]) -> list[int]:
    """Bulk-insert ``rows`` and return their ids in the rows' order. Ids grow with each
    insert of this (only) writer of the bound tenant, so the new ids are the tenant's
    ids above its previous maximum, in order. (``RETURNING`` with
    ``sort_by_parameter_order`` re-sorts every batch and took most of the seed's time.)"""
    before = db.session.execute(select(func.max(model.id))).scalar_one() or 0
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model), rows[start:start + CHUNK])
    ids = db.session.execute(select(model.id).where(model.id > before).order_by(model.id)).scalars().all()
    assert len(ids) == len(rows), (model.__tablename__, len(ids), len(rows))
    return ids


def _at(day: date, hour: int):
    from datetime import datetime

    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def _follow_up(business, sales: list[dict], sale_ids: list[int], rnd, today) -> tuple[list, list, list]:
    """Every sale's delivery visit by its seller, a follow-up call a few days later for the
    last year's sales, and a feedback answer for about a third of those (NPS skewed to
    promoters, as a pyme's happy book would be): done in the past, planned ahead."""
    activities, links, answers = [], [], []
    year_ago = today - timedelta(days=365)
    for sale, sale_id in zip(sales, sale_ids, strict=False):
        base = {"tenant_id": business.id, "client_id": sale["client_id"], "sale_id": sale_id,
                "seller_id": sale["seller_id"], "notes": "", "opportunity": False,
                "created_at": utcnow(), "updated_at": utcnow()}
        delivered = sale["delivery_on"]
        past = delivered < today
        activities.append(dict(base, kind="visit", purpose="delivery", due_on=delivered,
                               status="done" if past else "planned", satisfaction=rnd.randint(3, 5) if past else None,
                               done_at=_at(delivered, 15) if past else None,
                               done_on=delivered if past else None))
        if delivered < year_ago:
            continue
        call_on = delivered + timedelta(days=3)
        status = rnd.choices(["done", "no_answer", "planned"], [80, 12, 8])[0] if call_on < today else "planned"
        late = rnd.randint(0, 4) if status == "done" else 0
        activities.append(dict(base, kind="call", purpose="follow_up", due_on=call_on, status=status,
                               satisfaction=rnd.randint(2, 5) if status == "done" else None,
                               done_at=_at(call_on + timedelta(days=late), 17) if status == "done" else None,
                               done_on=call_on + timedelta(days=late) if status == "done" else None))
        if call_on < today and rnd.random() < 0.33:
            answered = _at(min(call_on + timedelta(days=1), today), 20)
            links.append({"tenant_id": business.id, "client_id": sale["client_id"], "sale_id": sale_id,
                          "created_by_id": sale["seller_id"], "sent_by": "email",
                          "expires_at": answered + timedelta(days=30), "created_at": answered, "updated_at": answered})
            answers.append({"tenant_id": business.id, "client_id": sale["client_id"],
                            "score": rnd.choices(range(11), [2, 1, 1, 2, 2, 3, 4, 8, 12, 25, 40])[0],
                            "comment": "", "callback": False, "language": "es",
                            "created_at": answered, "updated_at": answered})
    return activities, links, answers
