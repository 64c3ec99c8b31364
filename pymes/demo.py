"""The demo business that ``flask --app wsgi pymes demo`` (and ``./scripts/run``) creates:
"Ferretería El Roble", a hardware shop in Santiago with a year of life behind it.

What it holds (the same every time: a fixed random seed, every date counted back from
the business's today):

- a team of five: the owner (who also sells to the biggest accounts), two sellers, a
  manager who sells now and then, and a service person who handles complaints;
- territories and portfolios, each with its responsible seller;
- about 60 clients and prospects (Chilean names, E.164 mobiles, some companies with
  their RUT) placed on every rung of the ladder by their own sales: apostles (regular
  buyers with a 9–10 score and a referred friend who bought), frequent, sporadic and
  one-off buyers (some of them lapsed), referred prospects and walk-in prospects;
- 12 months of sales by four sellers, each with its post-sale plan: delivery visits,
  follow-up calls and check-ins done in the past (a few late, a few still overdue) and
  some due today, so "Your day" and the agenda have work in them;
- feedback links and answers with promoters, passives and detractors (a real NPS); each
  detractor opened a complaint, as the product does: four resolved with their remedy
  and economics, and two open ones, one past its clock;
- referrals (converted and open), testimonials approved on the wall and one waiting for
  review, a callback a client asked for, and the notifications those raised.

How it is built. The year is replayed day by day through the services the app itself
uses: ``save_client``, ``record_sale`` (tier, cached figures and the post-sale plan),
``schedule_checkin``, ``open_complaint`` / ``acknowledge`` / ``record_remedy`` /
``resolve``, ``add_referral`` / ``add_by_hand``, ``save_testimonial`` / ``review`` /
``add_by_seller``, ``notify``. Each service gets the replayed day where it takes one;
the moments they stamp with the real clock (``created_at``, ``opened_at``, a
complaint's history, a link's expiry, a referral's conversion…) are moved back to the
replayed moment by a session hook that lives only while the demo is built (``_Clock``).
Two things are written the way the services write them rather than through them: a
feedback answer (``feedback.services.answer`` takes the public form's path, with the
real clock and the request's URLs) and a contact's outcome (``visits.services.log_outcome``
commits once per contact; the replay logs some nine hundred). Every client is refreshed
once more as of today at the end, so each tier is what its sentence on the client's page
says.

Re-running. When the demo owner's account exists, ``build`` changes nothing and says so,
unless the business has no clients at all (one made by the empty demo of earlier
versions): then the missing teammates and the whole book are added to it. ``fresh=True``
(``flask pymes demo --fresh``) deletes the demo business first and builds it again with
today's dates. The build takes about two seconds on SQLite.
"""
from __future__ import annotations

import random
import time
import unicodedata
from collections import defaultdict
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import phonenumbers
from flask import current_app, has_request_context
from sqlalchemy import event, func, inspect, select

from .accounts.models import Business, User
from .clients.models import Client
from .clients.services import refresh_client, save_client
from .complaints import services as complaints
from .complaints.models import Complaint
from .data.services import grace_days, purge_business
from .db import UTCDateTime, utcnow
from .extensions import db
from .feedback import services as feedback
from .feedback.models import FeedbackLink, FeedbackResponse
from .i18n import business_today
from .notifications.models import Notification
from .notifications.services import notify
from .referrals import services as referrals
from .referrals.models import Referral, Testimonial
from .sales.models import Sale
from .sales.services import record_sale
from .security import hash_password
from .tenancy import bound, identity_lookup
from .territories.models import Portfolio, PortfolioSeller, Territory, TerritorySeller
from .visits.models import Activity
from .visits.services import cadence, plan_contact, schedule_checkin

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "fideliza-demo-2026"
DEMO_BUSINESS = "Ferretería El Roble"
OWNER_NAME = "Ana Dueña"
DEMO_TEAM = [
    ("Marta Vendedora", "marta@example.com", "seller"),
    ("Joaquín Vendedor", "joaquin@example.com", "seller"),
    ("Pedro Gerente", "pedro@example.com", "manager"),
    ("Sofía Servicio", "sofia@example.com", "service"),
]
SEED = 2026

# --- the people and the shop -------------------------------------------------------------

FIRST = ["José", "María José", "Sebastián", "Martín", "Ignacio", "Catalina", "Constanza", "Begoña", "Agustín",
         "Florencia", "Ramón", "Inés", "Héctor", "Verónica", "Víctor", "Andrés", "Cristián", "Mónica", "Raúl",
         "Josefina", "Tomás", "Valentina", "Joaquín", "Ximena", "Germán", "Pilar", "Nicolás", "Rocío", "Matías",
         "Soledad", "Álvaro", "Fernanda", "Benjamín", "Antonia", "Hernán", "Daniela", "Renato", "Trinidad"]
LAST = ["Muñoz", "González", "Pérez", "Núñez", "Ibáñez", "Sepúlveda", "Valdés", "Fernández", "Jiménez",
        "Gutiérrez", "Cárdenas", "Álvarez", "Henríquez", "Sáez", "Peña", "Araya", "Cañas", "Bravo", "Zúñiga",
        "Riquelme", "Órdenes", "Ríos", "Contreras", "Fuentes", "Saavedra", "Espinoza", "Tapia", "Vergara",
        "Carrasco", "Olivares", "Figueroa", "Muñoz", "Godoy", "Leiva"]
COMPANIES = ["Constructora Los Andes SpA", "Gasfitería Hermanos Núñez", "Inmobiliaria Cordillera Ltda.",
             "Restaurante El Fogón", "Colegio San Agustín", "Condominio Las Encinas", "Comercial Ñuble Ltda.",
             "Pinturas y Terminaciones Peñalolén", "Mueblería Don Ramón", "Eléctrica Quilpué SpA",
             "Minimarket La Esquina", "Taller Mecánico Cárdenas"]
TERRITORIES = {  # name: (description, communes)
    "Zona Centro": ("Santiago Centro, Providencia y Ñuñoa", ["Santiago", "Providencia", "Ñuñoa", "Recoleta"]),
    "Zona Sur de Santiago": ("La Florida, Puente Alto y San Bernardo",
                             ["La Florida", "Puente Alto", "San Bernardo", "La Cisterna"]),
    "V Región": ("Viña del Mar, Valparaíso y el interior", ["Viña del Mar", "Valparaíso", "Quilpué", "Villa Alemana"]),
}
PORTFOLIOS = {"Constructoras y empresas": "Cuentas con obras y compras grandes",
              "Hogares": "Familias y maestros que compran para su casa",
              "Comercios del barrio": "Locales, talleres y restaurantes"}
STREETS = ["Av. Vicuña Mackenna", "Av. Irarrázaval", "Pasaje Los Aromos", "Los Peumos", "Av. Libertad",
           "Gran Avenida José Miguel Carrera", "Av. Concha y Toro", "Calle Ñandú", "Los Alerces", "Av. España",
           "Manuel Montt", "Av. Froilán Roa"]
# (what was sold, product line, lowest and highest price in CLP)
PRODUCTS = [("Taladro percutor 800 W", "Herramientas", 49_000, 129_000),
            ("Pintura látex 4 L (x3)", "Pinturas", 38_000, 75_000),
            ("Set de llaves combinadas", "Herramientas", 19_000, 35_000),
            ("Cerámica 45x45 (10 cajas)", "Terminaciones", 120_000, 280_000),
            ("Grifería de cocina monomando", "Gasfitería", 45_000, 90_000),
            ("Cemento 25 kg (20 sacos)", "Construcción", 95_000, 130_000),
            ("Mantención de herramientas", "Servicios", 25_000, 60_000),
            ("Planchas OSB 11 mm (15 u.)", "Construcción", 150_000, 240_000),
            ("Kit de anclajes y fijaciones", "Ferretería", 12_000, 28_000),
            ("Escalera de aluminio 7 peldaños", "Herramientas", 55_000, 89_000)]
BIG = [("Materiales de obra gruesa", "Construcción", 600_000, 1_600_000),
       ("Terminaciones para departamentos", "Terminaciones", 450_000, 1_100_000)]
PROMOTER_COMMENTS = ["Excelente atención, me ayudaron a elegir lo correcto.", "Llegó todo a tiempo y completo.",
                     "Siempre tienen stock y buen precio.", "Muy buena asesoría, volveré.",
                     "Rápidos y amables, como siempre.", "La visita en la entrega se agradece mucho.", "", "", ""]
PASSIVE_COMMENTS = ["Bien, aunque la entrega se demoró un poco.", "Buen producto; estacionar es complicado.",
                    "Correcto, sin sorpresas.", "", ""]
CONTACT_NOTES = ["Todo bien con la compra.", "Conforme con la entrega.", "Pregunta por la garantía; se la expliqué.",
                 "Contento con la asesoría.", "", "", "", ""]
OPPORTUNITIES = ["Quiere cotizar cerámica para la terraza.", "Prepara la pintura de la fachada en primavera.",
                 "Va a cambiar la grifería del baño."]
TESTIMONIALS = [
    ("full", "Desde que Ana viene a cada entrega, no hemos vuelto a buscar otro proveedor. Si algo falta, lo "
             "resuelven el mismo día."),
    ("first", "Me asesoraron con la pintura de toda la casa y me llamaron a la semana para ver cómo iba. Así da "
              "gusto comprar."),
    ("full", "Compramos todos los materiales de la obra en El Roble: buen precio, despacho puntual y gente que "
             "sabe."),
    ("initials", "Si algo no queda bien, lo resuelven al tiro y sin discutir. Por eso sigo comprando aquí."),
    ("first", "Atención de barrio con stock de ferretería grande. Se los recomiendo a todos mis clientes."),
    ("first", "Me llaman cuando llega lo que necesito. Nunca me había pasado con una ferretería."),
]
SELLER_TESTIMONIAL = ("full", "Llevamos años comprando aquí. Nos conocen y saben lo que necesita cada trabajo.")


@dataclass
class Person:
    """One client of the demo and the story of their year."""

    key: str
    profile: str  # apostle, frequent, sporadic, buyer, lapsed, friend, prospect
    name: str
    seller: str  # a team key: ana, marta, joaquin, pedro
    territory: str
    portfolio: str
    company: str = ""
    days: list[int] = field(default_factory=list)  # days ago of each purchase, oldest first
    big: bool = False
    client_id: int | None = None


class _Clock:
    """While the demo is built, rows are written "on" a replayed moment of the past.

    A ``before_flush`` hook on the demo's own session (never on any other) gives new
    rows that moment as ``created_at`` / ``updated_at``, and moves every timestamp a
    service took from the real clock during the build (any value at or after the build
    started: an opening time, a due time counted from it, a link's expiry, a
    conversion) back by the distance from now to the replayed moment, so due times keep
    their distance from the moment they count from. Moments the demo sets itself are
    always before the build started and are left alone."""

    def __init__(self, session):
        self.session = session
        self.started = utcnow()
        self.moment: datetime | None = None

    def __enter__(self):
        event.listen(self.session, "before_flush", self._before_flush)
        # the build is the only writer of a business nobody can see yet: what it holds in
        # memory is what it wrote, so a commit need not make it read every row back
        self.expire_on_commit, self.session.expire_on_commit = self.session.expire_on_commit, False
        return self

    def __exit__(self, *exc):
        event.remove(self.session, "before_flush", self._before_flush)
        self.session.expire_on_commit = self.expire_on_commit
        self.moment = None

    def _before_flush(self, session, _context, _instances) -> None:
        if self.moment is None:
            return
        shift = self.moment - utcnow()
        new = set(session.new)
        for obj in list(new) + [o for o in session.dirty if session.is_modified(o)]:
            state = inspect(obj)
            for attr in state.mapper.column_attrs:
                if not isinstance(attr.columns[0].type, UTCDateTime):
                    continue
                key = attr.key
                if obj in new:
                    value = state.dict.get(key)
                    if value is None:
                        if key in ("created_at", "updated_at"):
                            setattr(obj, key, self.moment)
                        continue
                else:
                    added = state.attrs[key].history.added
                    if not added:
                        if key == "updated_at":
                            setattr(obj, key, self.moment)
                        continue
                    value = added[0]
                if value is not None and value >= self.started:
                    setattr(obj, key, value + shift)


def _rut(number: int) -> str:
    """A Chilean RUT with its check digit (module 11), written 76.123.456-7."""
    factors = [2, 3, 4, 5, 6, 7]
    total = sum(int(d) * factors[i % 6] for i, d in enumerate(reversed(str(number))))
    digit = 11 - total % 11
    check = {11: "0", 10: "K"}.get(digit, str(digit))
    return f"{number:,}".replace(",", ".") + "-" + check


def _ascii(text: str) -> list[str]:
    """The words of a name, lower-case and without accents (for an e-mail address)."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum() or ch == " ").split()


class Builder:
    """Replays the demo's year for one business (bound) and returns its counts."""

    def __init__(self, business, users: dict, today: date, echo=print):
        self.business = business
        self.users = users  # team key → User
        self.today = today
        self.echo = echo
        self.zone = ZoneInfo(business.timezone)
        self.rnd = random.Random(SEED)
        self.events: dict[date, list] = defaultdict(list)
        self.people: list[Person] = []
        self.clients: dict[str, object] = {}  # person key → Client
        self.sales: dict[tuple[str, int], object] = {}  # (person key, days ago) → Sale
        self.quiet: set[tuple[str, int]] = set()  # sales whose feedback is scripted
        self.late_done: dict[date, list[int]] = defaultdict(list)
        self.skipped: set[int] = set()
        self.used_names: set[str] = set()
        self.used_phones: set[str] = set()
        self.territories: dict[str, int] = {}
        self.portfolios: dict[str, int] = {}
        self.clock: _Clock | None = None
        self.testimonial_for: dict[str, tuple[str, str]] = {}  # person key → (name display, text)
        self.products: dict[tuple[str, int], tuple] = {  # sales the stories need as they are
            ("andes", 3): ("Herramientas eléctricas para la obra", "Herramientas", 380_000, 420_000),
            ("cordillera", 12): ("Griferías monomando para el piloto (4 u.)", "Gasfitería", 180_000, 200_000),
            ("fresh", 5): ("Pintura látex blanco invierno 4 L (x2)", "Pinturas", 36_000, 40_000),
        }
        self.used_emails: set[str] = set()

    # --- time ----------------------------------------------------------------------------

    def day(self, days_ago: int) -> date:
        return self.today - timedelta(days=days_ago)

    def at(self, day: date, hour: float) -> datetime:
        """``hour`` o'clock where the shop is on ``day``, in UTC; never later than a
        minute before the build started (today's 18:00 has not happened at 9:00)."""
        local = datetime(day.year, day.month, day.day, int(hour), int(hour % 1 * 60), tzinfo=self.zone)
        return min(local.astimezone(UTC), self.clock.started - timedelta(minutes=1))

    def on(self, day: date, hour: float, action, *args) -> None:
        """Do ``action(*args)`` at ``hour`` of ``day`` (never before the moment being replayed)."""
        if self.clock is not None and self.clock.moment is not None:
            now = self.clock.moment.astimezone(self.zone)
            if day < now.date():
                day = now.date()
            if day == now.date():
                hour = max(hour, now.hour + now.minute / 60)
        self.events[day].append((hour, len(self.events[day]), action, args))

    def after(self, hours: float, action, *args) -> None:
        """Do ``action(*args)`` ``hours`` after the moment being replayed."""
        then = (self.clock.moment + timedelta(hours=hours)).astimezone(self.zone)
        self.on(then.date(), then.hour + then.minute / 60, action, *args)

    # --- the cast --------------------------------------------------------------------------

    def _name(self) -> str:
        while True:
            name = f"{self.rnd.choice(FIRST)} {self.rnd.choice(LAST)} {self.rnd.choice(LAST)}"
            parts = name.split()
            if parts[-1] != parts[-2] and name not in self.used_names:
                self.used_names.add(name)
                return name

    def _phone(self) -> str:
        while True:
            number = f"+569{self.rnd.randint(40_000_000, 99_999_999)}"
            parsed = phonenumbers.parse(number, "CL")
            if number not in self.used_phones and phonenumbers.is_valid_number(parsed):
                self.used_phones.add(number)
                return number

    def _pattern(self, profile: str) -> list[int]:
        """Days ago of the purchases, oldest first, shaped so the ladder's own rules place
        the client on the intended rung (checked again at the end)."""
        r = self.rnd
        if profile == "apostle":
            days, last = [], r.randint(6, 30)
            while last <= 350:
                days.append(last)
                last += r.randint(25, 55)
        elif profile == "frequent":
            last = r.randint(6, 75)
            days = [last]
            for _ in range(3 + (r.random() < 0.5)):
                days.append(days[-1] + r.randint(45, 95))
        elif profile == "sporadic":
            last = r.randint(8, 200)
            days = [last, last + r.randint(130, 160)]
            if r.random() < 0.3 and days[-1] + 130 < 360:
                days.append(days[-1] + r.randint(130, 140))
        elif profile == "lapsed":
            last = r.randint(380, 480)
            days = [last] + ([last + r.randint(60, 120)] if r.random() < 0.5 else [])
        else:  # a one-off buyer
            days = [r.randint(8, 330)]
        return sorted(days, reverse=True)

    def cast(self) -> None:
        r = self.rnd
        sellers = ["marta"] * 8 + ["joaquin"] * 7 + ["pedro"] * 2 + ["ana"] * 3
        companies = list(COMPANIES)

        def person(profile, key=None, company="", seller=None, territory=None, portfolio=None, days=None, big=False):
            territory = territory or r.choice(list(TERRITORIES))
            if portfolio is None:
                portfolio = "Constructoras y empresas" if big else ("Comercios del barrio" if company else "Hogares")
            p = Person(key=key or f"{profile}{len(self.people)}", profile=profile, name=self._name(),
                       seller=seller or r.choice(sellers), territory=territory, portfolio=portfolio,
                       company=company, big=big,
                       days=days if days is not None else ([] if profile in ("friend", "prospect")
                                                           else self._pattern(profile)))
            self.people.append(p)
            return p

        # the story clients, named and placed by hand
        person("apostle", "andes", companies.pop(0), "ana", "Zona Centro", big=True,
               days=[3, 38, 71, 109, 140, 176, 214, 251, 290, 327])
        person("apostle", "nunez", companies.pop(0), "joaquin", "Zona Sur de Santiago")
        person("frequent", "cordillera", companies.pop(0), "marta", "Zona Centro", big=True,
               days=[12, 80, 151, 236, 318])
        person("sporadic", "fresh", "", "joaquin", "Zona Sur de Santiago", days=[5, 163])
        # three purchases in the year, the fourth today: frequent from today on (the month's move up)
        person("frequent", "climber", "", "marta", "Zona Centro", days=[0, 60, 130, 200])
        for _ in range(3):
            person("apostle", company=companies.pop(0) if r.random() < 0.4 else "")
        for i in range(10):
            person("frequent", company=companies.pop(0) if i % 3 == 0 and companies else "", big=i == 0)
        for i in range(13):
            person("sporadic", company=companies.pop(0) if i % 4 == 0 and companies else "")
        for i in range(13):
            person("buyer", company=companies.pop(0) if i == 5 and companies else "")
        for _ in range(5):
            person("lapsed")
        for _ in range(3):
            person("prospect", seller=r.choice(["marta", "joaquin"]))

    # --- building blocks -----------------------------------------------------------------------

    def new_client(self, p: Person, source: str = "walk_in", referred_by_id=None, email=None, phone=None):
        r = self.rnd
        territory_description, communes = TERRITORIES[p.territory]
        commune = r.choice(communes)
        first, *rest = _ascii(p.name)
        address = f"{first}.{rest[0]}@example.com"
        if address in self.used_emails:
            address = f"{first}.{rest[0]}.{rest[-1]}@example.com"
        self.used_emails.add(address)
        phone = phone or self._phone()
        channel = r.choice(["whatsapp", "whatsapp", "phone", "email", "visit" if p.company else "phone"])
        values = dict(kind="prospect" if p.profile in ("prospect", "friend") else "client", name=p.name,
                      company=p.company, tax_id=_rut(r.randint(76_000_000, 77_999_999)) if p.company else "",
                      email=email if email is not None else (address if r.random() < 0.8 else ""),
                      phone=phone, whatsapp=phone if channel == "whatsapp" else "",
                      address=f"{r.choice(STREETS)} {r.randint(100, 4999)}, {commune}",
                      territory_id=self.territories[p.territory], portfolio_id=self.portfolios[p.portfolio],
                      seller_id=self.users[p.seller].id, preferred_channel=channel,
                      preferred_time=r.choice(["morning", "afternoon", "any", "midday"]), notes="",
                      is_key=False, source=source, referred_by_id=referred_by_id, language=None)
        client = save_client(None, values, self.business.country)
        p.client_id = client.id
        self.clients[p.key] = client
        return client

    def sell(self, p: Person, days_ago: int, product=None) -> None:
        r = self.rnd
        day = self.day(days_ago)
        client = self.clients.get(p.key) or self.new_client(p)
        product = product or self.products.get((p.key, days_ago))
        name, line, low, high = product or (r.choice(BIG) if p.big and r.random() < 0.6 else r.choice(PRODUCTS))
        amount = r.randint(low, high) // 1000 * 1000 + 990
        seller = self.users[p.seller if r.random() < 0.85 else r.choice(["marta", "joaquin", "pedro"])]
        delivery = day + timedelta(days=r.randint(1, 3)) if line in ("Construcción", "Terminaciones") else day
        sale = record_sale(client, sold_on=day, description=name, product_line=line, amount=amount,
                           margin=amount * r.randint(20, 35) // 100, seller_id=seller.id,
                           delivery_on=min(delivery, self.today) if days_ago <= 3 else delivery,
                           actor=seller, today=day, commit=False)
        db.session.flush()
        self.sales[(p.key, days_ago)] = sale
        if (p.key, days_ago) not in self.quiet and days_ago >= 5:
            self.maybe_ask(p, sale, days_ago)

    def link(self, client, sale, day: date, sent_by: str, by):
        link = FeedbackLink(client_id=client.id, sale_id=sale.id if sale else None, created_by_id=by.id if by else None,
                            sent_by=sent_by, expires_at=self.at(day, 10) + timedelta(days=30),
                            created_at=self.at(day, 10), sent_at=self.at(day, 10))  # the demo's links all went out
        db.session.add(link)
        db.session.flush()
        return link

    def answer(self, client, link, score: int, comment: str = "", callback: bool = False, channel=None, window=None):
        """The customer's answer, stored as ``feedback.services.answer`` stores it; the
        ladder takes the score in at once (an apostle needs a high one)."""
        response = FeedbackResponse(link_id=link.id, client_id=client.id, score=score, comment=comment,
                                    callback=callback, callback_channel=channel if callback else None,
                                    callback_window=window if callback else None, language="es")
        db.session.add(response)
        db.session.flush()
        refresh_client(client, self.clock_day())
        return response

    def clock_day(self) -> date:
        return self.clock.moment.astimezone(self.zone).date()

    def maybe_ask(self, p: Person, sale, days_ago: int) -> None:
        """Four days after a sale, a feedback link goes out to about half the clients;
        most of them answer that evening."""
        r = self.rnd
        chance = {"apostle": 0.7, "frequent": 0.55, "sporadic": 0.5, "buyer": 0.45, "lapsed": 0.4,
                  "friend": 0.5}.get(p.profile, 0)
        if days_ago > 365 or r.random() >= chance:
            return
        ask_day = self.day(days_ago - 4)
        scores = [9, 10, 10] if p.profile == "apostle" else [7, 7, 8, 8, 9, 9, 10, 10]
        score = r.choice(scores)
        answered = r.random() < 0.72
        comment = r.choice(PROMOTER_COMMENTS if score >= 9 else PASSIVE_COMMENTS)
        self.on(ask_day, 10, self._ask, p, sale, score if answered else None, comment)

    def _ask(self, p: Person, sale, score, comment) -> None:
        client = self.clients[p.key]
        day = self.clock_day()
        link = self.link(client, sale, day, self.rnd.choice(["whatsapp", "email", "link"]), self.users[p.seller])
        if score is not None:
            self.tick(day, 20)
            self.answer(client, link, score, comment)

    def tick(self, day: date, hour: float) -> None:
        db.session.flush()
        self.clock.moment = self.at(day, hour)

    # --- contacts --------------------------------------------------------------------------------

    def contacts(self, day: date) -> None:
        """Log the day's planned visits and calls the way ``log_outcome`` does: most are
        done on the day, some a day or two late, a few fail; in the last week a few are
        still waiting (overdue), and today's stay planned for the agenda."""
        if day >= self.today:
            return
        r = self.rnd
        due = db.session.execute(select(Activity).where(Activity.status == "planned", Activity.due_on == day)
                                 .order_by(Activity.id)).scalars().all()
        for activity in due:
            if activity.id in self.skipped:
                continue
            if (self.today - day).days <= 6 and r.random() < 0.2:
                self.skipped.add(activity.id)  # overdue now
                continue
            if r.random() < 0.1:
                self.late_done[day + timedelta(days=r.randint(1, 2))].append(activity.id)
                continue
            self.log(activity, day)
        for activity_id in self.late_done.pop(day, []):
            activity = db.session.get(Activity, activity_id)
            if activity.status == "planned":
                self.log(activity, day)

    def log(self, activity, day: date, status: str | None = None, notes: str | None = None,
            satisfaction: int | None = None) -> None:
        r = self.rnd
        if status is None:
            status = "done"
            if activity.kind == "call" and r.random() < 0.12:
                status = "rescheduled" if activity.purpose == "check_in" else "no_answer"
        if status == "rescheduled":
            db.session.add(Activity(client_id=activity.client_id, sale_id=activity.sale_id,
                                    seller_id=activity.seller_id, kind=activity.kind, purpose=activity.purpose,
                                    due_on=day + timedelta(days=r.randint(3, 7))))
        opportunity = status == "done" and r.random() < 0.06
        activity.status = status
        activity.notes = notes if notes is not None else (r.choice(OPPORTUNITIES) if opportunity
                                                          else r.choice(CONTACT_NOTES) if status == "done" else "")
        activity.satisfaction = satisfaction if satisfaction is not None else (
            r.choice([3, 4, 4, 5, 5, 5]) if status == "done" else None)
        activity.opportunity = opportunity
        activity.done_at = self.at(day, 15 if activity.kind == "visit" else 17)
        activity.done_on = day
        if status == "done":
            schedule_checkin(db.session.get(Client, activity.client_id), day, self.cadence)

    # --- complaints ------------------------------------------------------------------------------

    def set_clocks(self, complaint) -> None:
        """The clocks counted from the replayed opening, as ``open_complaint`` counts them."""
        client = db.session.get(Client, complaint.client_id)
        db.session.flush()
        moment, self.clock.moment = self.clock.moment, None  # these are the true times, not the real clock's
        complaint.ack_due_at, complaint.resolve_due_at = complaints.clocks(
            complaint.opened_at, self.zone, complaints.settings(), complaints.level(complaint.severity, client.tier))
        complaint.updated_at = moment
        db.session.flush()
        self.clock.moment = moment

    def detractor(self, p: Person, sale_days_ago: int, score: int, comment: str, category: str, story: dict) -> None:
        """A detractor's answer opens a complaint (as the feedback page does), then the
        case is worked: acknowledged, remedied, told, resolved and followed up."""
        self.quiet.add((p.key, sale_days_ago))
        day = self.day(sale_days_ago - 4)
        self.on(day, 19, self._detractor, p, sale_days_ago, score, comment, category, story)

    def _detractor(self, p, sale_days_ago, score, comment, category, story) -> None:
        client = self.clients[p.key]
        sale = self.sales[(p.key, sale_days_ago)]
        day = self.clock_day()
        owner = self.users[p.seller]
        link = self.link(client, sale, day, "whatsapp", owner)
        response = self.answer(client, link, score, comment)
        complaint = complaints.open_complaint(client, None, category=category, description=comment,
                                              source="feedback", sale_id=sale.id, feedback_response_id=response.id,
                                              score_before=score, commit=False)
        self.set_clocks(complaint)
        db.session.commit()
        self.work(complaint, owner, story)

    def work(self, complaint, owner, story: dict) -> None:
        """Schedule the case's next steps, so many hours after it was opened: acknowledge,
        record the remedy (and tell the client), resolve (then the follow-up)."""
        self.after(story["ack"], self._acknowledge, complaint.id, owner)
        self.after(story["remedy_at"], self._remedy, complaint.id, owner, story)
        if "resolve" in story:
            self.after(story["resolve"], self._resolve, complaint.id, owner, story)

    def _acknowledge(self, complaint_id: int, owner) -> None:
        complaints.acknowledge(db.session.get(Complaint, complaint_id), owner)

    def _remedy(self, complaint_id: int, owner, story: dict) -> None:
        complaint = db.session.get(Complaint, complaint_id)
        cost = story["cost"](db.session.get(Sale, complaint.sale_id))  # what the remedy cost the shop
        complaints.record_remedy(complaint, owner, story["remedy"], cost, story.get("notes", ""))
        if story.get("told"):
            complaints.mark_told(complaint, owner, story["told"])

    def _resolve(self, complaint_id: int, owner, story: dict) -> None:
        complaint = db.session.get(Complaint, complaint_id)
        complaints.resolve(complaint, owner, story.get("note", ""))
        day = self.clock_day()
        complaint.followup_on = day + timedelta(days=complaints.settings().followup_days)
        db.session.commit()
        self.on(complaint.followup_on, 9, self._follow_up, complaint_id, story.get("score_after"))

    def _follow_up(self, complaint_id: int, score_after) -> None:
        """What ``send_followups`` does on the day: a new link (e-mailed), maybe answered."""
        complaint = db.session.get(Complaint, complaint_id)
        client = db.session.get(Client, complaint.client_id)
        day = self.clock_day()
        complaint.followup_sent_at = self.at(day, 9)
        link = self.link(client, None, day, "email", None)
        complaints.log(complaint, None, "followup", via="email")
        if score_after is not None:
            self.tick(day + timedelta(days=1), 11)
            self.answer(client, link, score_after, "Quedé conforme con la solución, gracias." if score_after >= 8
                        else "")
        db.session.commit()

    # --- referrals and testimonials ---------------------------------------------------------------

    def refer(self, referrer: Person, friend: Person, at_sale: int, buys_after: list[int] | None,
              status: str = "new", source: str = "feedback") -> None:
        """The referrer, happy (9–10) after a purchase, names a friend; the friend becomes
        the seller's prospect and, ``buys_after`` days later, a client: the referral
        converts and the referrer climbs the ladder."""
        self.quiet.add((referrer.key, at_sale))
        day = self.day(at_sale - 4)
        self.on(day, 19.5, self._refer, referrer, friend, at_sale, status, source)
        for offset in buys_after or []:
            friend.days.append(at_sale - 4 - offset)

    def _refer(self, referrer: Person, friend: Person, at_sale: int, status: str, source: str) -> None:
        client = self.clients[referrer.key]
        day = self.clock_day()
        by = self.users[referrer.seller]
        response_id = None
        if source == "feedback":
            link = self.link(client, self.sales[(referrer.key, at_sale)], day, "whatsapp", by)
            response = self.answer(client, link, 10, self.rnd.choice(PROMOTER_COMMENTS[:4]))
            response_id = response.id
            found = referrals.read_friend(friend.name, self._phone(), self.business.country, client)
            referral = referrals.add_referral(client, found, source="feedback", friend_consent=True,
                                              feedback_response_id=response_id)
        else:
            referral = referrals.add_by_hand(client, friend.name, self._phone(), self.business.country, source,
                                             True, by.id)
        db.session.flush()
        prospect = db.session.get(Client, referral.prospect_id)
        prospect.address = f"{self.rnd.choice(STREETS)} {self.rnd.randint(100, 4999)}"
        friend.client_id = prospect.id
        self.clients[friend.key] = prospect
        referral.status = status  # "contacted" / "meeting" as the seller moves it (no tier effect)
        db.session.commit()
        if response_id and referrer.key in self.testimonial_for:
            self.testify(referrer, response_id, day)

    def testify(self, p: Person, response_id: int, day: date, approve: bool = True) -> None:
        display, text = self.testimonial_for.pop(p.key)
        testimonial = referrals.save_testimonial(self.clients[p.key], text, display, True, response_id,
                                                 source="feedback")
        db.session.commit()
        if approve:
            self.on(day + timedelta(days=1), 9.5, self._approve, testimonial.id)

    def _approve(self, testimonial_id: int) -> None:
        referrals.review(db.session.get(Testimonial, testimonial_id), "approved", self.users["pedro"].id)

    # --- the year --------------------------------------------------------------------------------

    def script(self) -> None:
        """The stories on top of the everyday: referrals that converted (apostles),
        complaints, testimonials, today's work."""
        r = self.rnd
        by_key = {p.key: p for p in self.people}
        apostles = [p for p in self.people if p.profile == "apostle"]
        frequent = [p for p in self.people if p.profile == "frequent" and p.key not in ("cordillera", "climber")]
        sporadic = [p for p in self.people if p.profile == "sporadic" and p.key != "fresh"]
        buyers = [p for p in self.people if p.profile == "buyer"]

        # apostles: each referred a friend after a purchase 5–9 months ago; the friend bought
        texts = list(TESTIMONIALS)
        for i, p in enumerate(apostles):
            at_sale = min((d for d in p.days if 150 <= d <= 300), key=lambda d: abs(d - 200 + 20 * i))
            friend = self.add_person("friend", p)
            if i < 4:
                self.testimonial_for[p.key] = texts.pop(0)
            self.refer(p, friend, at_sale, [r.randint(14, 40)] + ([r.randint(80, 110)] if i == 1 else []),
                       status="converted")
        # open referrals: prospects still being worked
        for p, status, source in ((frequent[0], "new", "feedback"), (frequent[1], "contacted", "feedback"),
                                  (frequent[2], "meeting", "visit")):
            at_sale = min(p.days, key=lambda d: abs(d - 30)) if min(p.days) >= 10 else sorted(p.days)[1]
            friend = self.add_person("friend", p)
            if source == "feedback":
                self.refer(p, friend, at_sale, None, status=status)
            else:
                self.on(self.day(at_sale - 3), 17.5, self._refer, p, friend, at_sale, status, "visit")
        for p in frequent[3:5]:
            self.testimonial_for[p.key] = texts.pop(0)
            at_sale = min(d for d in p.days if d >= 10)
            self.quiet.add((p.key, at_sale))
            self.on(self.day(at_sale - 4), 19.5, self._praise, p, at_sale, p is frequent[4])

        # complaints fixed over the year (a detractor's answer each), then today's two open ones
        def pick(group, around, later_sale=False):
            for p in sorted(group, key=lambda x: min(abs(d - around) for d in x.days)):
                d = min(p.days, key=lambda x: abs(x - around))
                if abs(d - around) <= 40 and (p.key, d) not in self.quiet and (
                        not later_sale or any(x < d - 10 for x in p.days)):
                    return p, d
            raise RuntimeError(f"no client for the complaint around {around} days ago")

        p, d = pick(buyers, 300)
        self.detractor(p, d, 4, "El taladro dejó de funcionar a la semana.", "quality",
                       dict(remedy="replacement", cost=lambda sale: sale.amount - sale.margin,  # its cost price
                            told="phone", ack=15, remedy_at=16, resolve=44,
                            score_after=9,
                            notes="Se cambió por uno nuevo de la misma marca.",
                            note="Cliente recibió el taladro nuevo y quedó conforme."))
        p, d = pick(sporadic, 200)
        self.detractor(p, d, 5, "La cerámica llegó cuatro días tarde y tuve que reprogramar al maestro.",
                       "late_delivery", dict(remedy="discount", cost=lambda sale: sale.margin + 15_000,
                                             told="whatsapp", ack=2, remedy_at=15, resolve=20, score_after=8,
                                             notes="Se le devolvió el despacho y el margen de la compra."))
        p, d = pick(buyers, 120)
        self.detractor(p, d, 2, "Me cobraron dos veces la misma boleta.", "billing",
                       dict(remedy="refund", cost=lambda sale: sale.amount, told="email", ack=14, remedy_at=15,
                            resolve=18,
                            score_after=None,
                            notes="Se devolvió el cobro duplicado."))
        p, d = pick(frequent[5:], 55, later_sale=True)
        self.detractor(p, d, 6, "Faltaban los tornillos del kit de anclaje.", "missing_part",
                       dict(remedy="replacement", cost=lambda sale: sale.margin + 8_000, told="phone", ack=2,
                            remedy_at=14.5, resolve=20,
                            score_after=None, notes="Se despacharon los tornillos a primera hora."))

        # open and late: found on the follow-up call of a big order twelve days ago
        cordillera = by_key["cordillera"]
        self.quiet.add(("cordillera", 12))
        self.on(self.day(9), 11, self._late_complaint, cordillera)
        # open, on time: yesterday evening's answer to a paint order
        fresh = by_key["fresh"]
        self.quiet.add(("fresh", 5))
        self.on(self.day(1), 20, self._fresh_complaint, fresh)
        # today's work for the owner: a visit she planned and a callback a client asked for
        self.on(self.today, 8, self._today)

    def add_person(self, profile: str, referrer: Person) -> Person:
        p = Person(key=f"{profile}{len(self.people)}", profile=profile, name=self._name(), seller=referrer.seller,
                   territory=referrer.territory, portfolio=referrer.portfolio)
        self.people.append(p)
        return p

    def _praise(self, p: Person, at_sale: int, pending: bool) -> None:
        client = self.clients[p.key]
        day = self.clock_day()
        link = self.link(client, self.sales[(p.key, at_sale)], day, "email", self.users[p.seller])
        response = self.answer(client, link, 9 if pending else 10, self.rnd.choice(PROMOTER_COMMENTS[:6]))
        db.session.commit()
        self.testify(p, response.id, day, approve=not pending)

    def _late_complaint(self, p: Person) -> None:
        client = self.clients[p.key]
        sale = self.sales[(p.key, 12)]
        owner = self.users[p.seller]
        day = self.clock_day()
        call = db.session.execute(select(Activity).where(Activity.sale_id == sale.id,
                                                         Activity.purpose == "follow_up")).scalar_one()
        self.log(call, day, status="done", satisfaction=1,
                 notes="La válvula de dos griferías vino trizada; el piloto no se puede mostrar.")
        complaint = complaints.open_complaint(
            client, owner, category="quality", source="call", sale_id=sale.id, activity_id=call.id,
            description="Dos griferías del departamento piloto con la válvula trizada; la entrega a los "
                        "compradores está detenida hasta cambiarlas.",
            commit=False)
        self.set_clocks(complaint)
        db.session.commit()
        self.work(complaint, owner, dict(remedy="replacement", cost=lambda sale: sale.amount - sale.margin,
                                         told="whatsapp", ack=2, remedy_at=23,
                                         notes="Cambiar las cuatro griferías por otra marca; el proveedor demora la "
                                               "válvula."))
        # the escalation job runs every quarter of an hour: it saw the case a little after its target
        due_in = (complaint.resolve_due_at - self.clock.moment).total_seconds() / 3600
        self.after(due_in + 0.25, self._escalated, complaint.id)

    def _escalated(self, complaint_id: int) -> None:
        """What ``escalate-complaints`` did when the case missed its resolve target."""
        complaint = db.session.get(Complaint, complaint_id)
        if not complaints.resolve_breached(complaint, self.clock.moment):
            return
        client = db.session.get(Client, complaint.client_id)
        complaint.resolve_escalated_at = self.clock.moment
        complaints.log(complaint, None, "escalated", target="resolve")
        notify([u.id for u in (self.users["ana"], self.users["pedro"])], "complaint_late",
               {"client": client.name, "complaint_id": complaint.id, "target": "resolve"},
               f"/complaints/{complaint.id}")
        db.session.commit()

    def _fresh_complaint(self, p: Person) -> None:
        client = self.clients[p.key]
        sale = self.sales[(p.key, 5)]
        owner = self.users[p.seller]
        day = self.clock_day()
        link = self.link(client, sale, day, "whatsapp", owner)
        comment = "Pedí blanco invierno y me llegaron dos tarros de blanco humo. Tengo que pintar este fin de semana."
        response = self.answer(client, link, 3, comment)
        complaint = complaints.open_complaint(client, None, category="wrong_product", description=comment,
                                              source="feedback", sale_id=sale.id, feedback_response_id=response.id,
                                              score_before=3, commit=False)
        self.set_clocks(complaint)
        notify([self.users["ana"].id, self.users["pedro"].id, owner.id], "complaint_opened",
               {"client": client.name, "client_id": client.id, "score": 3, "complaint_id": complaint.id},
               f"/complaints/{complaint.id}")
        db.session.commit()
        self.work(complaint, owner, dict(remedy="replacement", cost=lambda sale: sale.amount - sale.margin,
                                         ack=12.5, remedy_at=13,
                                         notes="Cambiar los dos tarros por blanco invierno y llevarlos el viernes."))

    def _today(self) -> None:
        ana = self.users["ana"]
        mine = [p for p in self.people if p.seller == "ana" and p.client_id
                and p.profile in ("frequent", "sporadic", "buyer", "friend")]
        andes = self.clients["andes"]
        plan_contact(andes, kind="visit", due_on=self.today, seller_id=ana.id, today=self.today,
                     notes="Revisar en obra la cotización de la segunda torre.")
        # last night a client answered a link and asked to be called: the feedback page's
        # own service puts the call in the seller's agenda today (any time) and tells them
        p = next(x for x in mine if x.key != "andes")
        client = db.session.get(Client, p.client_id)
        yesterday = self.day(1)
        link = self.link(client, None, yesterday, "whatsapp", ana)
        self.tick(yesterday, 21)
        feedback.answer(link, client, score=8, comment="Quiero cotizar la pintura del local; llámenme cuando puedan.",
                        callback=True, channel="phone", window="any", language="es")
        self.tick(self.today, 8)
        # Joaquín and Marta each have a planned check-in today besides the sales' own plans
        for key in ("joaquin", "marta"):
            p = next(x for x in self.people if x.seller == key and x.profile in ("frequent", "sporadic")
                     and x.client_id)
            plan_contact(db.session.get(Client, p.client_id), kind="call", due_on=self.today,
                         seller_id=self.users[key].id, today=self.today, notes="Llamar para ofrecer la mantención "
                                                                                 "anual de herramientas.")
        # two walk-in prospects are to be called back this week
        for p in [x for x in self.people if x.profile == "prospect"][:2]:
            plan_contact(db.session.get(Client, p.client_id), kind="call",
                         due_on=self.today + timedelta(days=self.rnd.randint(1, 4)),
                         seller_id=self.users[p.seller].id, today=self.today,
                         notes="Cotizó cerámica para el baño: volver a llamar.")

    def run(self) -> dict:
        self.cadence = cadence()
        self.cast()
        self.script()
        for p in self.people:
            for d in p.days:
                self.on(self.day(d), 10 + (len(self.events[self.day(d)]) % 7), self.sell, p, d)
        for p in self.people:
            if p.profile == "prospect":
                self.on(self.day(self.rnd.randint(5, 40)), 12, self._walk_in, p)
        first_day = min(self.events)
        with _Clock(db.session()) as self.clock:
            self.clock.moment = self.at(first_day - timedelta(days=30), 9)
            responsible = {"Zona Centro": "marta", "Zona Sur de Santiago": "joaquin", "V Región": "pedro",
                           "Constructoras y empresas": "ana", "Hogares": "marta", "Comercios del barrio": "joaquin"}
            for name, (description, _communes) in TERRITORIES.items():
                territory = Territory(name=name, description=description)
                db.session.add(territory)
                db.session.flush()
                db.session.add(TerritorySeller(territory_id=territory.id, user_id=self.users[responsible[name]].id))
                self.territories[name] = territory.id
            for name, description in PORTFOLIOS.items():
                portfolio = Portfolio(name=name, description=description)
                db.session.add(portfolio)
                db.session.flush()
                db.session.add(PortfolioSeller(portfolio_id=portfolio.id, user_id=self.users[responsible[name]].id))
                self.portfolios[name] = portfolio.id
            db.session.commit()
            day = first_day
            while day <= self.today:
                self.on(day, 18, self.contacts, day)
                while self.events.get(day):  # an action may plan more for later the same day
                    pending = self.events[day]
                    hour, n, action, args = min(pending, key=lambda e: (e[0], e[1]))
                    pending.remove((hour, n, action, args))
                    self.tick(day, hour)
                    action(*args)
                self.events.pop(day, None)
                if day.day == 1 or day == self.today:
                    db.session.commit()
                day += timedelta(days=1)
            db.session.commit()
            # today, as the app would see it: every tier as of today, the biggest accounts marked key
            self.tick(self.today, 8)
            clients = db.session.execute(select(Client).order_by(Client.id)).scalars().all()
            for client in clients:
                if client.sales_count:
                    refresh_client(client, self.today)
            for client in sorted(clients, key=lambda c: -c.revenue_12m)[:4]:
                client.is_key = True
            referrals.referral_settings()  # the wall's key: the testimonial page shows its address
            self.tick(self.today, 8)
            fan = [p for p in self.people if p.profile == "apostle" and p.key != "andes"][-1]
            testimonial, _errors = referrals.add_by_seller(self.clients[fan.key], {
                "text": SELLER_TESTIMONIAL[1], "name_display": SELLER_TESTIMONIAL[0], "publish_where": "both",
                "consent": "1", "may_publish": "1"})
            referrals.review(testimonial, "approved", self.users["ana"].id)
            # the team read what the app told them over the year; the last two days' news is unread
            recent = self.at(self.day(2), 0)
            for notification in db.session.execute(select(Notification).where(
                    Notification.read_at.is_(None), Notification.created_at < recent)).scalars():
                notification.read_at = notification.created_at + timedelta(hours=2)
            db.session.commit()
        return self.check()

    def _walk_in(self, p: Person) -> None:
        client = self.new_client(p, source="walk_in")
        client.notes = "Vino a cotizar; todavía no compra."
        db.session.commit()

    def check(self) -> dict:
        """The counts the command reports, and a check that every rung got its clients."""
        def count(stmt):
            return db.session.execute(stmt).scalar_one()

        tiers = dict(db.session.execute(select(Client.tier, func.count()).group_by(Client.tier)).all())
        wanted = {"apostle", "frequent", "sporadic", "buyer"}
        missing = wanted - {t for t, n in tiers.items() if n}
        if missing:
            raise RuntimeError(f"the demo left a rung empty: {sorted(missing)}")
        return {
            "clients": count(select(func.count()).select_from(Client)),
            "tiers": {t: tiers.get(t, 0) for t in ("apostle", "frequent", "sporadic", "buyer")},
            "prospects": tiers.get(None, 0),
            "sales": count(select(func.count()).select_from(Sale)),
            "contacts": count(select(func.count()).select_from(Activity)),
            "answers": count(select(func.count()).select_from(FeedbackResponse)),
            "complaints": count(select(func.count()).select_from(Complaint)),
            "referrals": count(select(func.count()).select_from(Referral)),
            "testimonials": count(select(func.count()).select_from(Testimonial)),
        }


def _team(business, password_hash: str) -> dict:
    """The owner and the teammates, created when missing; returns them by key."""
    people = {u.email: u for u in db.session.execute(select(User)).scalars()}
    wanted = [(OWNER_NAME, DEMO_EMAIL, "owner")] + DEMO_TEAM
    for name, email, role in wanted:
        if email not in people:
            user = User(email=email, name=name, password_hash=password_hash, role=role, language="es",
                        email_confirmed_at=utcnow())
            db.session.add(user)
            people[email] = user
    db.session.commit()
    keys = {DEMO_EMAIL: "ana", "marta@example.com": "marta", "joaquin@example.com": "joaquin",
            "pedro@example.com": "pedro", "sofia@example.com": "sofia"}
    return {keys[email]: people[email] for email in keys}


def _existing_business_id() -> int | None:
    with identity_lookup():
        return db.session.execute(select(User.tenant_id).where(User.email == DEMO_EMAIL)).scalar_one_or_none()


def _delete(business_id: int) -> None:
    """Delete the demo business for good, through the purge the owner's deletion uses."""
    business = db.session.get(Business, business_id)
    business.deletion_requested_at = utcnow() - timedelta(days=grace_days() + 1)
    db.session.commit()
    purge_business(business_id)


def build(echo=print, fresh: bool = False, today: date | None = None) -> dict:
    """Create the demo business (see the module's docstring). Returns what was done:
    ``{"created": bool, "seconds": float, "counts": {...}}``; ``created`` is False when
    the demo already existed with its clients and nothing was changed."""

    started = time.perf_counter()
    # the services build links to the app's pages (notifications): outside a request (the
    # command line) they are built against BASE_URL, as the e-mails' links are
    request = nullcontext() if has_request_context() else current_app.test_request_context(
        "/", base_url=current_app.config.get("BASE_URL") or "http://127.0.0.1:5000")
    with request:
        return _build(echo, fresh, today, started)


def _build(echo, fresh: bool, today: date | None, started: float) -> dict:
    business_id = _existing_business_id()
    if business_id is not None and fresh:
        _delete(business_id)
        echo(f"Deleted the demo business '{DEMO_BUSINESS}'.")
        business_id = None
    if business_id is None:
        business = Business(name=DEMO_BUSINESS, country="CL", currency="CLP", timezone="America/Santiago",
                            language="es")
        db.session.add(business)
        db.session.commit()
        business_id = business.id
    with bound(business_id):
        business = db.session.get(Business, business_id)
        if db.session.execute(select(func.count()).select_from(Client)).scalar_one():
            return {"created": False, "seconds": round(time.perf_counter() - started, 2), "counts": {}}
        users = _team(business, hash_password(DEMO_PASSWORD))
        counts = Builder(business, users, today or business_today(business), echo).run()
    return {"created": True, "seconds": round(time.perf_counter() - started, 2), "counts": counts}
