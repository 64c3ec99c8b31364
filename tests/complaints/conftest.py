"""The complaints tests' shared shop."""
from datetime import date

import pytest
from sqlalchemy import select

from pymes.clients.models import Client
from pymes.extensions import db
from pymes.sales.models import Sale
from pymes.tenancy import bound

from ..factories import santiago_today


@pytest.fixture
def shop(app, make):
    """A Chilean shop (CLP, no minor unit) whose client buys 10,000 a month with 3,000 margin."""
    business, owner, manager, seller = make.team("Ferretería El Clavo")
    service = make.user(business, "service", name="Paula Servicio")
    with app.app_context(), bound(business.id):
        c = Client(name="Jorge Muñoz", email="jorge@example.com", phone="+56987654321", seller_id=seller.id)
        db.session.add(c)
        db.session.flush()
        today = santiago_today()
        for back in range(12):
            month = (today.month - 1 - back) % 12 + 1
            year = today.year + (today.month - 1 - back) // 12
            db.session.add(Sale(client_id=c.id, seller_id=seller.id, sold_on=date(year, month, 1),
                                description="Taladro", amount=10_000, margin=3_000))
        db.session.commit()
        sale_id = db.session.execute(select(Sale.id).where(Sale.client_id == c.id).order_by(Sale.sold_on.desc())
                                     ).scalars().first()
        cid = c.id
    return dict(business=business, owner=owner, manager=manager, seller=seller, service=service, client_id=cid,
                sale_id=sale_id)
