"""Deterministic data sets for benchmarks and demos (``flask --app wsgi pymes seed``).

The same ``--seed`` gives the same rows. Clients are generated with their sales
dates first, so the cached figures and the tier are computed in Python before the
bulk insert instead of one query per client afterwards."""
from __future__ import annotations

import random
import time
from datetime import date, timedelta

from sqlalchemy import insert, select

from .accounts.models import Business, User
from .clients import loyalty
from .clients.models import Client
from .db import utcnow
from .extensions import db
from .sales.models import Sale
from .security import hash_password
from .tenancy import bound
from .territories.models import Portfolio, PortfolioSeller, Territory, TerritorySeller

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


def seed(businesses: int = 1, clients: int = 100, sales_per_client: float = 3.0, seed_number: int = 42,
         today: date | None = None, echo=print) -> dict:
    """Create ``businesses`` businesses with ``clients`` clients each. Returns counts and seconds."""
    started = time.perf_counter()
    today = today or date.today()
    rnd = random.Random(seed_number)
    password = hash_password(PASSWORD)
    counts = {"businesses": 0, "clients": 0, "sales": 0}
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
        counts["clients"] += made[0]
        counts["sales"] += made[1]
        echo(f"business {n}: {made[0]} clients, {made[1]} sales")
    counts["seconds"] = round(time.perf_counter() - started, 2)
    return counts


def _clients(business, total, per_client, rnd, today, sellers, territories, portfolios) -> tuple[int, int]:
    rules = loyalty.TierRules()
    made_clients = made_sales = 0
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
                "revenue_12m": sum(a for d, a in zip(dates, amounts) if d > window),
                "created_at": utcnow(), "updated_at": utcnow(),
            })
            sale_plans.append((seller.id, dates, amounts))
        ids = db.session.scalars(insert(Client).returning(Client.id, sort_by_parameter_order=True), rows).all()
        sales = []
        for client_id, (seller_id, dates, amounts) in zip(ids, sale_plans):
            for sold_on, amount in zip(dates, amounts):
                product, line = rnd.choice(PRODUCTS)
                sales.append({"tenant_id": business.id, "client_id": client_id, "seller_id": seller_id,
                              "sold_on": sold_on, "description": product, "product_line": line, "amount": amount,
                              "margin": amount * rnd.randint(15, 40) // 100, "delivery_on": sold_on,
                              "created_at": utcnow(), "updated_at": utcnow()})
        for s in range(0, len(sales), CHUNK):
            db.session.execute(insert(Sale), sales[s:s + CHUNK])
        made_clients += len(rows)
        made_sales += len(sales)
    return made_clients, made_sales
